"""A second print-and-scan model, never drawn from in training: the held-out press family.

``enhance.train.halftone`` (family A) is what the descreener learned from: round dots from two
crossed cosines, the classic 15/75/0/45 rosette, ideal inks multiplied channel by channel, dot
gain as a blur of the dots, white paper, a Gaussian scanner. This module prints with other
choices at every step, so the print track can score generalisation rather than recall:

* spot shapes: elliptical (chain) dots, square dots, line screens, round dots on a fine lattice;
* rosettes with other per-ink angles (C 105, M 75, Y 90, K 45, turned as a whole);
* inks with cross-absorption (cyan takes some green, magenta some blue and red, ...), black
  from grey-component replacement of the coloured inks;
* a tinted paper; dot gain as a tone curve (a midtone rise applied to the ink before screening);
* scanner optics as a pixel aperture (box) and a Gaussian, with an unsharp mask as many scanners
  apply, or a 1-bit (bilevel) scan as archives made them; JPEG at the end.

:func:`print_and_scan_b` returns the scan and the print seen without its screen (the same inks,
paper and tone curve laid down as continuous coverage, through the same optics): the target a
tone-faithful descreener should reach.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, uniform_filter

#: per-ink absorption of (R, G, B) light at full coverage, rows C, M, Y, K: real process inks
#: are not ideal, each takes some light of the other channels
ABSORPTION = np.array([[0.92, 0.30, 0.10], [0.15, 0.88, 0.35], [0.03, 0.10, 0.85], [0.90, 0.90, 0.88]], np.float32)
ANGLES = (105.0, 75.0, 90.0, 45.0)


@dataclass(frozen=True)
class PressB:
    """One held-out print-and-scan setting.

    Attributes:
        lpi, dpi: screen ruling and scan resolution.
        spot: "ellipse", "square", "line" or "round".
        colour: four inks (else one black ink).
        gcr: share of the grey component moved to black, 0 to 1.
        gain: midtone dot gain of the tone curve (coverage 0.5 prints as 0.5 + gain).
        paper: paper colour, RGB in [0, 1].
        aperture: scanner pixel aperture (box width in scan pixels) before its blur.
        blur: scanner Gaussian sigma in scan pixels.
        sharpen: unsharp-mask amount the scanner applies (0 = none).
        bilevel: a 1-bit scan (gray only).
        noise: scanner noise sigma in [0, 1].
        jpeg: JPEG quality of the saved scan (0 = none).
        turn: the whole rosette turned by this many degrees.
    """

    lpi: float
    dpi: float
    spot: str = "ellipse"
    colour: bool = True
    gcr: float = 0.5
    gain: float = 0.12
    paper: tuple[float, float, float] = (0.96, 0.94, 0.88)
    aperture: float = 1.0
    blur: float = 0.4
    sharpen: float = 0.0
    bilevel: bool = False
    noise: float = 0.004
    jpeg: int = 0
    turn: float = 0.0

    @property
    def period(self) -> float:
        return self.dpi / self.lpi


def _threshold(h: int, w: int, o: int, period: float, angle: float, spot: str) -> np.ndarray:
    yy, xx = np.mgrid[0:h * o, 0:w * o].astype(np.float32)
    yy, xx = (yy + 0.5) / o - 0.5, (xx + 0.5) / o - 0.5
    a = np.deg2rad(angle)
    u = (xx * np.cos(a) + yy * np.sin(a)) / period
    v = (-xx * np.sin(a) + yy * np.cos(a)) / period
    fu, fv = u - np.floor(u) - 0.5, v - np.floor(v) - 0.5  # position in the cell, -0.5..0.5
    if spot == "line":
        d = np.abs(fu) * 2
    elif spot == "square":
        d = np.maximum(np.abs(fu), np.abs(fv)) * 2
    elif spot == "ellipse":
        d = np.sqrt((fu / 0.5) ** 2 * 1.0 + (fv / 0.5) ** 2 * 0.55) / np.sqrt(1.55)
    else:
        d = np.hypot(fu, fv) / np.sqrt(0.5)
    # rank the cell's positions by distance from the dot centre: coverage c inks the closest c
    r = np.clip(d, 0, 1)
    return (r * r if spot != "line" else r).astype(np.float32)


def _tone(ink: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(ink + 4 * gain * ink * (1 - ink), 0, 1)


def _coverage(ink: np.ndarray, s: PressB, angle: float, screened: bool, o: int = 3) -> np.ndarray:
    ink = _tone(ink, s.gain)
    if not screened:
        return ink.astype(np.float32)
    h, w = ink.shape
    thr = _threshold(h, w, o, s.period, angle, s.spot)
    fine = np.repeat(np.repeat(ink, o, axis=0), o, axis=1)
    # equalise: the threshold's values are not uniform over a cell; map them to their ranks
    flat = np.sort(thr[: min(thr.shape[0], int(8 * s.period * o)), : min(thr.shape[1], int(8 * s.period * o))], axis=None)
    rank = np.searchsorted(flat, thr).astype(np.float32) / flat.size
    return (fine > rank).astype(np.float32).reshape(h, o, w, o).mean(axis=(1, 3))


def _print(rgb: np.ndarray, s: PressB, screened: bool) -> np.ndarray:
    if s.colour:
        cmy = 1.0 - rgb
        grey = cmy.min(axis=2) * s.gcr
        k = grey / np.maximum(1e-6, 1.0 - 0.0)
        cmy = np.clip((cmy - grey[..., None]) / np.maximum(1.0 - grey[..., None], 1e-6), 0, 1)
        inks = [cmy[..., 0], cmy[..., 1], cmy[..., 2], k]
        angles = ANGLES
    else:
        inks = [1.0 - rgb @ np.array([0.299, 0.587, 0.114], np.float32)]
        angles = (45.0,)
    refl = np.ones(rgb.shape, np.float32) * np.array(s.paper, np.float32)
    rows = range(4) if s.colour else (3,)
    for ink, ang, row in zip(inks, angles, rows):
        cov = _coverage(ink.astype(np.float32), s, ang + s.turn, screened)
        refl = refl * (1.0 - cov[..., None] * ABSORPTION[row])
    if not s.colour:
        refl = np.repeat(refl.mean(axis=2, keepdims=True), 3, axis=2)
    return refl


def _optics(x: np.ndarray, s: PressB) -> np.ndarray:
    if s.aperture > 1.0:
        x = uniform_filter(x, (s.aperture, s.aperture, 1), mode="reflect")
    if s.blur > 0:
        x = gaussian_filter(x, (s.blur, s.blur, 0), mode="reflect")
    if s.sharpen > 0:
        x = x + s.sharpen * (x - gaussian_filter(x, (1.2, 1.2, 0), mode="reflect"))
    return x


def to8(x: np.ndarray) -> np.ndarray:
    """``x`` in [0, 1] as 8-bit levels, rounded."""
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def print_and_scan_b(rgb8: np.ndarray, s: PressB, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``rgb8`` ``(H, W, 3)`` uint8 printed and scanned under ``s``: the scan and the print
    without its screen, both ``(H, W, 3)`` uint8."""
    rgb = rgb8.astype(np.float32) / 255.0
    scan = _optics(_print(rgb, s, True), s)
    truth = _optics(_print(rgb, s, False), s)
    scan = scan + rng.normal(0, s.noise, scan.shape).astype(np.float32)
    if s.bilevel:
        scan = np.repeat((scan.mean(axis=2, keepdims=True) > 0.5).astype(np.float32), 3, axis=2)
    scan8 = to8(scan)
    if s.jpeg:
        buf = io.BytesIO()
        Image.fromarray(scan8).save(buf, "JPEG", quality=s.jpeg)
        scan8 = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return scan8, to8(truth)


#: the held-out settings the print track scores
SETTINGS: dict[str, tuple[str, PressB]] = {
    "B-chain-150lpi-600dpi": ("CMYK chain dots, GCR 50 %, tinted paper, 150 lpi at 600 dpi, JPEG 90",
                              PressB(150, 600, "ellipse", jpeg=90, turn=7.0)),
    "B-square-100lpi-300dpi": ("newsprint: CMYK square dots, heavy gain, grey paper, 100 lpi at 300 dpi, sharpened",
                               PressB(100, 300, "square", gcr=0.8, gain=0.2, paper=(0.90, 0.89, 0.84), blur=0.6,
                                      sharpen=0.6, noise=0.008, turn=-4.0)),
    "B-line-133lpi-600dpi": ("black line screen 133 lpi at 600 dpi, box aperture 1.5 px",
                             PressB(133, 600, "line", colour=False, aperture=1.5, blur=0.3, turn=30.0)),
    "B-bilevel-85lpi-600dpi": ("1-bit archive scan of a black round-dot print, 85 lpi at 600 dpi",
                               PressB(85, 600, "round", colour=False, gain=0.08, bilevel=True, blur=0.3)),
}
