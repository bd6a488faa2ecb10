"""Print-and-scan simulation: continuous tone -> clustered-dot halftone -> scan.

The first stage of the descreening work (``--type=print``): it makes training pairs and test
images for the screen detector. An AM clustered-dot screen is a threshold array built from
two crossed cosines at the screen's period and angle, evaluated on a fine device grid and
averaged down to the scan grid (the scanner's pixel integration), with dot gain, paper texture
and scanner blur and noise on top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter

__all__ = ["PrintSettings", "screen_gray", "screen_fm", "print_and_scan", "random_settings", "luma", "gray_target",
           "engraving", "tone_curve", "SPOTS"]

#: Classic offset screen angles in degrees for C, M, Y, K.
CMYK_ANGLES = (15.0, 75.0, 0.0, 45.0)
#: Spot shapes of an AM screen (:func:`screen_gray`'s ``spot``).
SPOTS = ("round", "ellipse", "square", "line")
#: How often the widened press model draws each of :data:`SPOTS`.
SPOT_WEIGHTS = (0.4, 0.25, 0.2, 0.15)
#: Ideal inks: the (R, G, B) light each of C, M, Y, K absorbs at full coverage.
IDEAL_INKS = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 1.0, 1.0))


@dataclass(frozen=True)
class PrintSettings:
    """One print-and-scan setting.

    Attributes:
        lpi: screen ruling (lines per inch), e.g. 85 (newspaper) to 175.
        dpi: scan resolution in dots per inch.
        angle: screen angle in degrees for grayscale prints (K uses it in CMYK too).
        colour: CMYK four-screen print instead of one gray screen.
        dot_gain: how much dots spread (0 = none), as a blur of the ink on the device grid.
        paper: paper-texture noise amplitude (0..1 of full scale).
        scan_blur: scanner optics blur in scan pixels (Gaussian sigma).
        scan_noise: scanner noise sigma in 0..1.
        oversample: device grid pixels per scan pixel (per axis).
        screen: "am" (clustered dots on a lattice) or "fm" (stochastic: dots of a fixed size at
            blue-noise positions, as in FM/error-diffusion prints; ``lpi`` is then unused).
        fm_dot: FM dot size in scan pixels.
        spot: AM spot shape, one of :data:`SPOTS`: round (two crossed cosines), ellipse (chain
            dots: the cosines weighted ``spot_shape`` and ``1 - spot_shape``), square (a
            ``spot_shape``-norm distance in the cell), line (one cosine: a line screen).
        spot_shape: the ellipse's axis weight (0.5 is round) or the square's norm exponent.
        angles: per-ink screen angles of a CMYK print (C, M, Y, K), or None for the classic
            rosette turned so that K lies at ``angle``.
        inks: the (R, G, B) light each of C, M, Y, K absorbs at full coverage (cross-absorption
            of real process inks), or None for ideal inks.
        gcr: share of the grey component printed in black (grey-component replacement).
        paper_tint: the paper's colour, RGB in [0, 1].
        tone_gain: a dot-gain tone curve applied to the ink before screening, as presses are
            characterised: coverage ``c`` prints as ``1 - (1 - c) ** (1 + tone_gain)``.
        aperture: the scanner's pixel aperture, a box of this many scan pixels (0: none).
        sharpen: unsharp-mask amount the scanner applies (0: none), at ``sharpen_sigma`` px.
        bilevel: a 1-bit scan (thresholded at ``bilevel_at``), as archives made of halftones.
    """

    lpi: float = 150.0
    dpi: float = 600.0
    angle: float = 45.0
    colour: bool = False
    dot_gain: float = 0.15
    paper: float = 0.01
    scan_blur: float = 0.5
    scan_noise: float = 0.005
    oversample: int = 4
    screen: str = "am"
    fm_dot: float = 0.75
    spot: str = "round"
    spot_shape: float = 0.5
    angles: tuple[float, float, float, float] | None = None
    inks: tuple[tuple[float, float, float], ...] | None = None
    gcr: float = 1.0
    paper_tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    tone_gain: float = 0.0
    aperture: float = 0.0
    sharpen: float = 0.0
    sharpen_sigma: float = 1.0
    bilevel: bool = False
    bilevel_at: float = 0.5

    @property
    def period(self) -> float:
        """Screen period in scan pixels."""
        return self.dpi / self.lpi


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma ``(H, W)`` float64 of ``(H, W, 3)`` RGB, in the input's range: what a gray
    print reproduces."""
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def gray_target(rgb8: np.ndarray) -> np.ndarray:
    """The ground truth of a gray print of ``rgb8`` (``(H, W, 3)`` uint8): its luma, rounded,
    in three equal channels."""
    y = np.clip(np.round(luma(rgb8)), 0, 255).astype(np.uint8)
    return np.repeat(y[..., None], 3, axis=2)


def screen_gray(ink: np.ndarray, period: float, angle_deg: float, oversample: int = 4, dot_gain: float = 0.0,
                spot: str = "round", spot_shape: float = 0.5) -> np.ndarray:
    """Halftone an ink-coverage image ``(H, W)`` in [0, 1] with a clustered-dot screen of
    ``spot`` shape (one of :data:`SPOTS`; ``spot_shape`` as in :class:`PrintSettings`).

    Returns the printed ink coverage ``(H, W)`` in [0, 1], averaged from a device grid
    ``oversample`` times finer (so dot edges become partial coverage, as a scanner sees them).
    """
    h, w = ink.shape
    o = max(1, int(oversample))
    yy, xx = np.mgrid[0:h * o, 0:w * o].astype(np.float32)
    yy = (yy + 0.5) / o - 0.5
    xx = (xx + 0.5) / o - 0.5
    a = np.deg2rad(angle_deg)
    u = (xx * np.cos(a) + yy * np.sin(a)) * (2 * np.pi / period)
    v = (-xx * np.sin(a) + yy * np.cos(a)) * (2 * np.pi / period)
    if spot == "round":
        thr = 0.5 - 0.25 * (np.cos(u) + np.cos(v))  # low at dot centres, where ink appears first
    elif spot == "ellipse":
        thr = 0.5 - 0.5 * (spot_shape * np.cos(u) + (1.0 - spot_shape) * np.cos(v))
    elif spot == "line":
        thr = 0.5 - 0.5 * np.cos(u)
    elif spot == "square":
        fu = np.abs(np.mod(u / (2 * np.pi) + 0.5, 1.0) - 0.5) * 2  # 0 at the dot's centre, 1 at the cell's edge
        fv = np.abs(np.mod(v / (2 * np.pi) + 0.5, 1.0) - 0.5) * 2
        thr = ((fu ** spot_shape + fv ** spot_shape) / 2) ** (1.0 / spot_shape)
    else:
        raise ValueError(f"unknown spot shape {spot!r}")
    fine = np.repeat(np.repeat(ink, o, axis=0), o, axis=1)
    dots = (fine > thr).astype(np.float32)
    if dot_gain > 0:
        dots = np.clip(gaussian_filter(dots, dot_gain * o * period / 4) * (1 + dot_gain), 0, 1)
    return dots.reshape(h, o, w, o).mean(axis=(1, 3))


def screen_fm(ink: np.ndarray, dot: float, rng: np.random.Generator, oversample: int = 4,
              dot_gain: float = 0.0) -> np.ndarray:
    """Stochastic (FM) screening of ``ink`` ``(H, W)`` in [0, 1]: a blue-noise threshold array
    whose cells are ``dot`` scan pixels wide. Returns printed coverage ``(H, W)`` in [0, 1]."""
    h, w = ink.shape
    o = max(1, int(oversample))
    cell = max(1, int(round(dot * o)))
    ch, cw = -(-h * o // cell), -(-w * o // cell)
    noise = rng.standard_normal((ch, cw))
    noise = noise - gaussian_filter(noise, 1.5)  # high-pass: blue-ish noise, no clumps
    ranks = np.empty(noise.size, dtype=np.float32)
    ranks[np.argsort(noise, axis=None)] = (np.arange(noise.size, dtype=np.float32) + 0.5) / noise.size
    thr = np.repeat(np.repeat(ranks.reshape(ch, cw), cell, axis=0), cell, axis=1)[:h * o, :w * o]
    fine = np.repeat(np.repeat(ink, o, axis=0), o, axis=1)
    dots = (fine > thr).astype(np.float32)
    if dot_gain > 0:
        dots = np.clip(gaussian_filter(dots, dot_gain * cell / 2) * (1 + dot_gain), 0, 1)
    return dots.reshape(h, o, w, o).mean(axis=(1, 3))


def _screen(ink: np.ndarray, s: PrintSettings, angle: float, rng: np.random.Generator) -> np.ndarray:
    if s.screen == "fm":
        return screen_fm(ink, s.fm_dot, rng, s.oversample, s.dot_gain)
    return screen_gray(ink, s.period, angle, s.oversample, s.dot_gain, s.spot, s.spot_shape)


#: the finest screen period (px) a training print is drawn with unless asked for finer
MIN_PERIOD = 2.5


def random_settings(rng: np.random.Generator, colour_prob: float = 0.6, fm_prob: float = 0.1,
                    wide: bool = False, spot_weights: tuple[float, ...] = SPOT_WEIGHTS,
                    min_period: float = MIN_PERIOD) -> PrintSettings:
    """Draw a plausible print-and-scan setting for training: 65-200 lpi scanned at 300-1200 dpi,
    screen periods of 2.5 to 10 scan pixels, any angle, colour or gray, AM or (sometimes) FM.

    With ``wide``, the draw also covers the presses and scanners beyond that first model (issue
    19): every spot shape of :data:`SPOTS`, rosettes with other per-ink angles, inks with
    cross-absorption, any share of grey-component replacement, tinted papers, dot gain as a
    tone curve, box-aperture and sharpening scanners, 1-bit scans of gray prints, and a coarser
    device grid. The first draws are the same as without it, so a seed gives the same ruling,
    angle and colour either way. ``spot_weights`` are the relative draw weights of
    :data:`SPOTS` (``wide`` only); other weights change which spot a seed draws, not the rest.
    ``min_period`` (px) is the finest screen drawn (log-uniform up to 10 px): 1.7 reaches a 300 dpi
    scan of a 175 lpi print."""
    period = float(np.exp(rng.uniform(np.log(min_period), np.log(10.0))))
    dpi = float(rng.choice([300.0, 400.0, 600.0, 800.0, 1200.0]))
    base = PrintSettings(
        lpi=dpi / period, dpi=dpi, angle=float(rng.uniform(0, 90)), colour=bool(rng.random() < colour_prob),
        dot_gain=float(rng.uniform(0.0, 0.3)), paper=float(rng.uniform(0.0, 0.03)),
        scan_blur=float(rng.uniform(0.3, 1.0)), scan_noise=float(rng.uniform(0.0, 0.015)),
        screen="fm" if rng.random() < fm_prob else "am", fm_dot=float(rng.uniform(0.5, 1.5)), oversample=3)
    if not wide:
        return base
    spot = str(rng.choice(SPOTS, p=np.asarray(spot_weights, np.float64) / sum(spot_weights)))
    shape = float(rng.uniform(0.55, 0.75)) if spot == "ellipse" else float(rng.uniform(2.5, 6.0)) if spot == "square" else 0.5
    angles = None
    if base.colour and rng.random() < 0.5:  # another rosette: C, M, K 30 degrees apart, Y between
        cmk = base.angle + rng.permutation([0.0, 30.0, 60.0])
        angles = (float(cmk[0]), float(cmk[1]), float(base.angle + rng.choice([15.0, 45.0, 75.0])), float(cmk[2]))
    inks = None
    if rng.random() < 0.7:  # process inks take some light of the other channels
        cross = rng.uniform(0.0, 0.35, size=(3, 3)) * (1 - np.eye(3))
        main = np.diag(rng.uniform(0.8, 1.0, size=3))
        black = np.full(3, rng.uniform(0.85, 1.0)) + rng.uniform(-0.04, 0.04, size=3)
        inks = tuple(tuple(float(v) for v in row) for row in np.vstack([main + cross, np.clip(black, 0, 1)]))
    tint = (1.0, 1.0, 1.0)
    if rng.random() < 0.6:
        warm = rng.uniform(0.0, 0.12)
        tint = (float(1 - rng.uniform(0, 0.05)), float(1 - rng.uniform(0, 0.05) - warm / 3), float(1 - warm - rng.uniform(0, 0.05)))
    bilevel = (not base.colour) and base.screen == "am" and rng.random() < 0.15
    return replace(
        base, spot=spot, spot_shape=shape, angles=angles, inks=inks, gcr=float(rng.uniform(0.0, 1.0)), paper_tint=tint,
        tone_gain=float(rng.uniform(0.0, 0.5)) if rng.random() < 0.6 else 0.0,
        aperture=float(rng.uniform(1.0, 2.0)) if rng.random() < 0.3 else 0.0,
        sharpen=float(rng.uniform(0.2, 1.0)) if rng.random() < 0.3 else 0.0, sharpen_sigma=float(rng.uniform(0.8, 2.0)),
        bilevel=bilevel, bilevel_at=float(rng.uniform(0.4, 0.6)), oversample=int(rng.choice([2, 3])))


def tone_curve(s: PrintSettings, angle: float, levels: int = 17) -> tuple[np.ndarray, np.ndarray]:
    """The press's tone reproduction for one ink: ink asked for (``levels`` values in [0, 1])
    and the mean coverage the screen, with its dot gain, lays down there (measured on flat
    patches of eight periods). What the print looks like without its screen."""
    asked = np.linspace(0.0, 1.0, levels)
    side = int(np.ceil(8 * (s.period if s.screen == "am" else 4 * s.fm_dot)))
    rng = np.random.default_rng(0)
    got = np.array([_screen(np.full((side, side), a, np.float32), s, angle, rng).mean() for a in asked])
    return asked, np.maximum.accumulate(got)


def _tone_gain(ink: np.ndarray, gain: float) -> np.ndarray:
    return ink if gain <= 0 else (1.0 - (1.0 - np.clip(ink, 0, 1)) ** (1.0 + gain)).astype(np.float32)


def _optics(x: np.ndarray, s: PrintSettings) -> np.ndarray:
    """The scanner's optics on ``(H, W, 3)`` reflectance: pixel aperture, blur, sharpening."""
    if s.aperture > 1.0:
        x = uniform_filter(x, (s.aperture, s.aperture, 1), mode="reflect")
    if s.scan_blur > 0:
        x = gaussian_filter(x, (s.scan_blur, s.scan_blur, 0))
    if s.sharpen > 0:
        x = x + s.sharpen * (x - gaussian_filter(x, (s.sharpen_sigma, s.sharpen_sigma, 0), mode="reflect"))
    return x


def print_and_scan(rgb: np.ndarray, settings: PrintSettings, rng: np.random.Generator,
                   screenless: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Simulate printing ``rgb`` (``(H, W, 3)`` float in [0, 1], already at scan resolution)
    and scanning it back. Returns ``(H, W, 3)`` float32 in [0, 1]; with ``screenless``, also
    the print seen without its screen (the same inks, paper and dot gain laid down as
    continuous coverage, through the same scanner optics, without its noise or a 1-bit
    scanner's threshold): the tone a descreened scan should keep."""
    s = settings
    paper = 1.0 - s.paper * np.abs(gaussian_filter(rng.standard_normal(rgb.shape[:2]), 1.0)).astype(np.float32)
    paper = paper[..., None] * np.asarray(s.paper_tint, np.float32)
    absorb = np.asarray(s.inks if s.inks is not None else IDEAL_INKS, np.float32)

    def compose(lay: Callable[[np.ndarray, float], np.ndarray]) -> np.ndarray:
        if s.colour:
            cmy = 1.0 - rgb
            k = cmy.min(axis=2) * s.gcr
            cmy = (cmy - k[..., None]) / np.maximum(1.0 - k[..., None], 1e-6)
            inks = [cmy[..., 0], cmy[..., 1], cmy[..., 2], k]
            angles = s.angles if s.angles is not None else tuple(a + s.angle - 45.0 for a in CMYK_ANGLES)
            out = np.ones(rgb.shape, np.float32)
            for ink, ang, row in zip(inks, angles, absorb):
                out = out * (1.0 - lay(_tone_gain(ink, s.tone_gain), ang)[..., None] * row)
        else:
            cov = lay(_tone_gain(1.0 - luma(rgb), s.tone_gain), s.angle)
            out = np.repeat((1.0 - cov * absorb[3].mean())[..., None], 3, axis=2)
        return _optics(out * paper, s)

    out = compose(lambda ink, angle: _screen(ink, s, angle, rng))
    out = np.clip(out + rng.normal(0, s.scan_noise, out.shape), 0, 1).astype(np.float32)
    if s.bilevel:
        out = np.repeat((luma(out) > s.bilevel_at)[..., None], 3, axis=2).astype(np.float32)
    if not screenless:
        return out
    asked, got = tone_curve(s, s.angle)  # one curve for all inks: the screen's angle barely moves it
    clean = compose(lambda ink, angle: np.interp(ink, asked, got).astype(np.float32))
    return out, np.clip(clean, 0, 1).astype(np.float32)


def engraving(h: int, w: int, rng: np.random.Generator, min_warp: float = 0.0) -> np.ndarray:
    """A synthetic line engraving: hatched strokes in ink on paper, as ``(h, w, 3)`` uint8.

    Old book illustrations (wood and steel engravings, etchings, pen drawings) shade with
    parallel lines 2-6 scan pixels apart: the same frequencies as a halftone screen, but lines
    rather than a 2-D lattice of dots. Crops of these, left unscreened, teach the descreener to
    pass such work through. Two to four regions (boundaries from smooth noise) each get a stroke
    direction and spacing, gently curved; some are cross-hatched; stroke width follows a smooth
    tone field, as an engraver's burin does. The strokes bend by up to 6 px over the crop, at
    least ``min_warp`` px: with it, a straight ruling of constant period across the whole crop
    is left to the line screens, which the descreener must remove.
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    def smooth_field(sigma: float) -> np.ndarray:
        f = gaussian_filter(rng.standard_normal((h, w)).astype(np.float32), sigma, mode="wrap")
        return f / (np.abs(f).max() + 1e-6)

    regions = int(rng.integers(2, 5))
    label = np.argmax(np.stack([smooth_field(max(h, w) / 6) for _ in range(regions)]), axis=0)
    tone = 0.5 + 0.6 * smooth_field(max(h, w) / 8)  # about 0..1: share of each period inked
    warp = smooth_field(max(h, w) / 4) * float(rng.uniform(min(min_warp, 6.0), 6))
    ink = np.zeros((h, w), np.float32)
    for r in range(regions):
        spacing = float(rng.uniform(2.0, 6.0))
        sets = 2 if rng.random() < 0.2 else 1
        for k in range(sets):
            theta = float(rng.uniform(0, np.pi)) + k * float(rng.uniform(np.pi / 6, np.pi / 2))
            phase = (xx * np.cos(theta) + yy * np.sin(theta) + warp) / spacing
            dist = np.abs(phase - np.floor(phase) - 0.5) * spacing  # 0 at the stroke's centre
            width = spacing * (0.8 * tone - 0.1)  # tone below 1/8: paper shows, no stroke
            cover = np.clip(width / 2 - dist + 0.5, 0.0, 1.0)  # antialiased edge, one pixel wide
            ink = np.where(label == r, np.maximum(ink, cover), ink)
    paper = np.array([rng.uniform(0.85, 0.98), rng.uniform(0.82, 0.96), rng.uniform(0.72, 0.92)], np.float32)
    dark = np.float32(rng.uniform(0.05, 0.3)) * np.array([1.0, 0.95, 0.9], np.float32)
    rgb = paper * (1 - ink[..., None]) + dark * ink[..., None]
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)
