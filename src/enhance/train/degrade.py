"""Degradations that turn a clean high-resolution crop into a training input.

One module for every model: the faithful super-resolution models see the benchmark
protocol's MATLAB bicubic downscale (sometimes another kernel); the repair model sees JPEG at
quality 10-60 and noise; the print model (``--type=print``) adds a print-and-scan simulation.
Everything is NumPy/Pillow and seeded through a :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from ..resize import imresize
from .halftone import MIN_PERIOD

__all__ = ["Degradation", "PRESETS", "degrade", "degrade_pair"]


@dataclass(frozen=True)
class Degradation:
    """How to degrade a crop. Probabilities are per sample.

    Attributes:
        kernels: downscale kernels to draw from: "matlab" (antialiased bicubic, the protocol),
            "box", "bilinear", "lanczos" (Pillow), "point" (every ``scale``-th pixel, no
            filter at all: aliased, as a low-dpi scan or a careless resize makes it).
        kernel_weights: relative draw weights of ``kernels``.
        blur: max Gaussian sigma (HR pixels) applied before downscaling, drawn in [0, blur].
        blur_prob: probability of that blur.
        noise: max Gaussian noise sigma in 0..255 levels, drawn in [0, noise].
        noise_prob: probability of noise.
        jpeg: (min, max) JPEG quality, or None for no JPEG.
        jpeg_prob: probability of JPEG.
        halftone: probability that the (downscaled) crop is printed and scanned back through
            :mod:`enhance.train.halftone` with a random setting (the ``print`` model's input);
            a grayscale print turns the target gray too (colour cannot be recovered from it).
        halftone_fm: share of those prints made with a stochastic (FM) screen instead of an AM one.
        halftone_wide: draw the prints from the widened press model (``random_settings(...,
            wide=True)``: spot shapes, rosettes, inks, GCR, paper tints, tone curves, scanners).
        spot_weights: the widened model's draw weights of the spot shapes
            (:data:`enhance.train.halftone.SPOTS`), or None for its own.
        screenless: a printed crop's target is the print seen without its screen (its inks,
            paper and dot gain as continuous coverage) rather than the pre-press original; x1 only.
        engraving: probability that the crop is replaced by a synthetic line engraving
            (:func:`enhance.train.halftone.engraving`), left unscreened, input and target alike:
            hatching that the descreener must pass through.
        engraving_warp: the least bend of an engraving's strokes, in px (see
            :func:`~enhance.train.halftone.engraving`).
        text: probability that the crop is replaced by a synthetic page of type
            (:func:`enhance.train.textpage.text_page`), then degraded like any other crop (type
            is printed solid, so it is never screened).
        enlarge_screens: a crop printed with a lattice screen is enlarged, scan and target
            alike, by the factor the command runs the descreener at
            (:func:`enhance.models.tone.enlargement` of its period; Pillow bicubic, as
            :class:`~enhance.models.enlarged.Enlarged` does) and its centre cropped back to the
            crop's size: the descreener learns the enlarged screens it is given; x1 only.
        min_period: the finest screen period (px) drawn for a print (``random_settings``).
    """

    kernels: tuple[str, ...] = ("matlab",)
    kernel_weights: tuple[float, ...] = (1.0,)
    blur: float = 0.0
    blur_prob: float = 0.0
    noise: float = 0.0
    noise_prob: float = 0.0
    jpeg: tuple[int, int] | None = None
    jpeg_prob: float = 0.0
    halftone: float = 0.0
    halftone_fm: float = 0.1
    halftone_wide: bool = False
    spot_weights: tuple[float, ...] | None = None
    screenless: bool = False
    engraving: float = 0.0
    engraving_warp: float = 0.0
    text: float = 0.0
    enlarge_screens: bool = False
    min_period: float = MIN_PERIOD

    def with_flags(self, train_blur: float | None, train_noise: float | None, train_jpeg: int | None) -> "Degradation":
        """Apply Neural Enhance's ``--train-blur/--train-noise/--train-jpeg`` on top of a preset."""
        d = self
        if train_blur:
            d = replace(d, blur=float(train_blur), blur_prob=max(d.blur_prob, 0.5))
        if train_noise:
            d = replace(d, noise=float(train_noise) * 255.0 if train_noise < 1 else float(train_noise),
                        noise_prob=max(d.noise_prob, 0.5))
        if train_jpeg:
            d = replace(d, jpeg=(int(train_jpeg), max(int(train_jpeg), 95)), jpeg_prob=max(d.jpeg_prob, 0.5))
        return d


#: Named degradation presets.
PRESETS: dict[str, Degradation] = {
    # exactly the benchmark protocol's LR
    "bicubic": Degradation(),
    # small JPEGs enlarged (the default model's JPEG variant): the protocol's LR saved as JPEG at
    # quality 20-95 (4:2:0, the grid at any phase) on nine crops in ten, the tenth clean
    "bicubic-jpeg": Degradation(jpeg=(20, 95), jpeg_prob=0.9),
    # the same weighted toward heavy compression (quality 15-80 on every crop but a twentieth):
    # at x3 the repair-then-enlarge chain, which flattens strokes, still led the variant below
    # quality 50, and the variant is used only up to 80
    "bicubic-jpeg-low": Degradation(jpeg=(15, 80), jpeg_prob=0.95),
    # and toward light compression (quality 75-97, a fifth of the crops clean): the web's and the
    # cameras' files, where the 20-95 variant loses to the plain model at 95 and waifu2x's
    # light-denoise level leads both
    "bicubic-jpeg-light": Degradation(jpeg=(75, 97), jpeg_prob=0.8),
    # and the x2 JPEG variant's own band since the light variant took 85-93 (session 22): quality
    # 20-88 (a little past the band's end) on nine crops in ten, the capacity spent on what it serves
    "bicubic-jpeg-band": Degradation(jpeg=(20, 88), jpeg_prob=0.9),
    # faithful upscaling of real files: mostly the protocol, sometimes other kernels
    "faithful": Degradation(kernels=("matlab", "lanczos", "box", "bilinear"), kernel_weights=(0.7, 0.1, 0.1, 0.1)),
    # x1 repair: JPEG quality 10-60 plus noise
    "repair": Degradation(noise=6.0, noise_prob=0.3, jpeg=(10, 60), jpeg_prob=1.0),
    # descreening (--type=print): most crops printed with a halftone screen and scanned (some
    # kept unscreened so that line art and engravings pass through), scans sometimes JPEG'd
    "print": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.85),
    # the same with more unscreened crops (30 %), so that line art and engravings pass through
    "print-keep": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.7),
    # and with a quarter of the prints stochastic (FM), where the first cycles did worst
    "print-fm": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.75, halftone_fm=0.25),
    # and with a tenth of the crops synthetic engravings, unscreened: forced onto a real engraving,
    # the descreener trained without them washes out its finest hatching
    "print-hatch": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.75,
                               halftone_fm=0.25, engraving=0.1),
    # issue 19: many presses and scanners (the widened model), and the print without its screen
    # as the target, so that the descreener keeps the press's tone and colour; some pages of
    # type among the unscreened crops, as a page's type is printed solid
    "print-wide": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.75,
                              halftone_fm=0.15, halftone_wide=True, screenless=True, engraving=0.1, text=0.05),
    # and twice the line screens, with engravings' strokes always bent by at least 2 px: the
    # first wide cycle kept fine straight line screens (period 4.5 px: 29 dB where a blur made
    # 40), which its engravings had taught it to pass through; a ruling straight and constant
    # across the crop is now a screen
    "print-wide-line": Degradation(noise=2.0, noise_prob=0.3, jpeg=(60, 95), jpeg_prob=0.3, halftone=0.75,
                                   halftone_fm=0.15, halftone_wide=True, spot_weights=(0.35, 0.2, 0.15, 0.3),
                                   screenless=True, engraving=0.1, engraving_warp=2.0, text=0.05),
}
# since session 20 the command runs the descreener on a scan enlarged until its screen is about
# 8.5 px (at most twice): it sees band-limited 5-10 px screens, never a sharp 2.5-5 px one
PRESETS["print-wide-line-enlarged"] = replace(PRESETS["print-wide-line"], enlarge_screens=True)
# and 300 dpi scans of magazines (1.7-2.5 px screens, enlarged twice): the enlarged cycle alone
# gained 0.1-0.3 dB on 3-7 px screens and lost 0.03-0.18 on these, which it never saw
PRESETS["print-wide-line-enlarged-fine"] = replace(PRESETS["print-wide-line-enlarged"], min_period=1.7)

# "<preset>-text": the preset with an eighth of the crops synthetic pages of type: scanned books
# are mostly text, which the registry corpus barely holds
PRESETS.update({f"{k}-text": replace(PRESETS[k], text=0.125) for k in ("bicubic", "bicubic-jpeg", "bicubic-jpeg-low", "bicubic-jpeg-light",
                                                                  "bicubic-jpeg-band", "repair")})
# issue 20: real low-dpi scans and careless resizes are aliased, which the protocol's
# antialiased LR never is (`benchmarks aliased`: x2 on point-sampled LR made 23.91 dB where
# Pillow bicubic made 26.68): a share of the LR box-reduced or point-sampled, the rest as
# "bicubic-text"
PRESETS["bicubic-aliased-text"] = replace(PRESETS["bicubic-text"], kernels=("matlab", "box", "point"),
                                          kernel_weights=(0.7, 0.15, 0.15))
# the same with a third of that share (5 % box, 5 % point): 30 % cost the protocol 0.53 dB after
# three epochs, and one network cannot tell an aliased LR from a sharp one
PRESETS["bicubic-aliased-light-text"] = replace(PRESETS["bicubic-aliased-text"], kernel_weights=(0.9, 0.05, 0.05))
# the variant for aliased input (``type="aliased"``, which the user asks for: one network cannot
# tell an aliased LR from a sharp one): most LR box-reduced or point-sampled, half of the crops
# softened a little before (a scanner's optics, far less than an antialiasing filter), a fifth as
# the protocol's so antialiased files given the type still come out whole
PRESETS["aliased-text"] = replace(PRESETS["bicubic-aliased-text"], kernel_weights=(0.2, 0.4, 0.4), blur=0.5, blur_prob=0.5)

_PIL = {"box": Image.BOX, "bilinear": Image.BILINEAR, "lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC}


def _downscale(hr: np.ndarray, scale: int, kernel: str) -> np.ndarray:
    h, w = hr.shape[0] // scale, hr.shape[1] // scale
    if scale == 1:
        return hr.astype(np.float64)
    if kernel == "matlab":
        return imresize(hr, output_shape=(h, w))
    if kernel == "point":  # the pixel nearest each LR pixel's centre, as Pillow's NEAREST takes it
        return hr[scale // 2::scale, scale // 2::scale][:h, :w].astype(np.float64)
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(hr[..., c], dtype=np.float32)).resize((w, h), _PIL[kernel]))
             for c in range(hr.shape[2])]
    return np.stack(chans, axis=-1).astype(np.float64)


def _jpeg(img: np.ndarray, quality: int, phase: tuple[int, int] = (0, 0)) -> np.ndarray:
    """JPEG round trip at ``quality``, with the codec's block grid starting ``phase`` = (dy, dx)
    pixels above and left of the crop (the crop's edge pads the extra rows by reflection)."""
    dy, dx = phase
    padded = np.pad(img, ((dy, 0), (dx, 0), (0, 0)), mode="reflect") if dy or dx else img
    buf = io.BytesIO()
    Image.fromarray(padded).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))[dy:, dx:]


def degrade(hr: np.ndarray, scale: int, deg: Degradation, rng: np.random.Generator, margin: int = 0) -> np.ndarray:
    """Degrade an HR crop into its LR training input.

    Args:
        hr: ``(H, W, 3)`` uint8 crop; H and W multiples of ``scale``.
        scale: 1 to 4.
        deg: the degradation.
        rng: random source.
        margin: LR pixels to cut from each side after degrading (the HR crop then carries
            ``margin * scale`` pixels of context per side, so that edge handling of the
            resampler never reaches the kept area).

    Returns:
        ``(H/scale - 2*margin, W/scale - 2*margin, 3)`` uint8.
    """
    return degrade_pair(hr, scale, deg, rng, margin)[0]


def degrade_pair(hr: np.ndarray, scale: int, deg: Degradation, rng: np.random.Generator,
                 margin: int = 0, info: dict[str, float | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`degrade`, but also return the target: ``hr`` itself, or its luma in three
    equal channels when the crop was printed with a single (gray) screen.

    ``info``, when given, gets ``"period"``: the period in LR pixels of the lattice screen the
    crop was printed with (an AM screen of dots), or ``None`` (not printed, FM, a line screen),
    as the command's screen detector would report it.

    Returns:
        ``(lr, target)``, both uint8; ``target`` has ``hr``'s shape.
    """
    engraved = deg.engraving > 0 and rng.random() < deg.engraving
    if engraved:
        from .halftone import engraving

        hr = engraving(hr.shape[0], hr.shape[1], rng, min_warp=deg.engraving_warp)
    typeset = not engraved and deg.text > 0 and rng.random() < deg.text
    if typeset:
        from .textpage import text_page

        hr = text_page(hr.shape[0], hr.shape[1], rng)
    target = hr
    period = None  # the lattice screen's period, when the crop is printed with one
    if info is not None:
        info["period"] = None
    x = hr.astype(np.float64)
    if deg.blur > 0 and rng.random() < deg.blur_prob:
        sigma = rng.uniform(0.2, deg.blur)
        x = gaussian_filter(x, sigma=(sigma, sigma, 0), mode="reflect")
    kernel = deg.kernels[int(rng.choice(len(deg.kernels), p=np.asarray(deg.kernel_weights) / sum(deg.kernel_weights)))]
    if scale > 1:
        x = _downscale(np.clip(x, 0, 255), scale, kernel) if kernel != "matlab" else imresize(x, output_shape=(x.shape[0] // scale, x.shape[1] // scale))
    if deg.halftone > 0 and not (engraved or typeset) and rng.random() < deg.halftone:
        from .halftone import SPOT_WEIGHTS, gray_target, print_and_scan, random_settings

        settings = random_settings(rng, fm_prob=deg.halftone_fm, wide=deg.halftone_wide,
                                   spot_weights=deg.spot_weights or SPOT_WEIGHTS, min_period=deg.min_period)
        if settings.screen == "am" and settings.spot != "line":
            period = settings.period
            if info is not None:
                info["period"] = period
        if deg.screenless:
            if scale != 1:
                raise ValueError("a screenless target is for x1 (descreening) only")
            scan, clean = print_and_scan(np.clip(x / 255.0, 0, 1), settings, rng, screenless=True)
            x = scan.astype(np.float64) * 255.0
            target = np.clip(np.round(clean * 255.0), 0, 255).astype(np.uint8)
        else:
            x = print_and_scan(np.clip(x / 255.0, 0, 1), settings, rng).astype(np.float64) * 255.0
            if not settings.colour:
                target = gray_target(hr)
    if deg.noise > 0 and rng.random() < deg.noise_prob:
        sigma = rng.uniform(0.5, deg.noise)
        if rng.random() < 0.3:  # luma-only (grain) noise
            x = x + rng.normal(0.0, sigma, size=x.shape[:2] + (1,))
        else:
            x = x + rng.normal(0.0, sigma, size=x.shape)
    out = np.clip(np.round(x), 0, 255).astype(np.uint8)
    if deg.jpeg is not None and rng.random() < deg.jpeg_prob:
        # a random grid phase (over the 16 px 4:2:0 macroblock): a crop of a real JPEG starts
        # anywhere on the grid, and a network with stride-2 stages is not shift-invariant
        phase = (int(rng.integers(0, 16)), int(rng.integers(0, 16)))
        out = _jpeg(out, int(rng.integers(deg.jpeg[0], deg.jpeg[1] + 1)), phase)
    if deg.enlarge_screens and period is not None:
        from ..models.tone import enlargement

        if scale != 1:
            raise ValueError("enlarged screens are for x1 (descreening) only")
        factor = enlargement(period)
        if factor > 1:
            out, target = _enlarged_centre(out, factor), _enlarged_centre(target, factor)
            if info is not None:
                info["period"] = period * factor
    if margin:
        out = out[margin:-margin, margin:-margin]
    return out, target


def _enlarged_centre(img: np.ndarray, factor: float) -> np.ndarray:
    """``img`` (``(H, W, 3)`` uint8) enlarged ``factor`` times by Pillow's bicubic (as the
    command enlarges a scan for the descreener), its centre ``(H, W)`` cropped out, uint8."""
    from ..models.classical import resize

    h, w = img.shape[:2]
    bh, bw = round(h * factor), round(w * factor)
    big = resize(img.astype(np.float32) / 255.0, bw, bh)
    y, x = (bh - h) // 2, (bw - w) // 2
    return np.clip(np.round(big[y:y + h, x:x + w] * 255.0), 0, 255).astype(np.uint8)
