"""Halftone screen detection from FFT peaks (the start of ``--type=print``).

A clustered-dot screen is a periodic lattice: its spectrum has sharp, strong peaks at the
screen frequency, in (at least) two orthogonal directions. Engravings, hatching and text have
broad spectral ridges instead, and hatching has one direction (or, cross-hatched, two whose
peaks are neither sharp nor at one common frequency). :func:`detect_screen` looks for a sharp
peak and its orthogonal partner at the same radius, and reports the period, angle and, given
the scan's DPI, the ruling in lines per inch. A lattice that also repeats on a coarser one (a
ruled grid, a weave, graph paper, a tiling) is not a screen, and neither, given the DPI, is a
lattice at a ruling no press prints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ScreenReport", "ScreenMap", "LineScreen", "detect_screen", "detect_line_screen", "screen_map",
           "MAX_TRAINED_PERIOD"]


@dataclass(frozen=True)
class ScreenReport:
    """What :func:`detect_screen` found.

    Attributes:
        found: a halftone screen is present.
        period: screen period in pixels (None when not found).
        angle: screen angle in degrees in [0, 90), measured from the x axis toward +y (image
            rows downward), as :mod:`enhance.train.halftone` draws screens (None when not found).
        lpi: lines per inch, when the DPI was given.
        strength: peak prominence (log-magnitude above the local background) of the weaker of
            the two orthogonal peaks; the decision threshold is :data:`THRESHOLD`.
    """

    found: bool
    period: float | None = None
    angle: float | None = None
    lpi: float | None = None
    strength: float = 0.0

    def describe(self) -> str:
        """One line for the user."""
        if not self.found:
            return "no halftone screen detected"
        lpi = f", about {self.lpi:.0f} lpi" if self.lpi else ""
        return f"halftone screen detected: period {self.period:.2f} px at {self.angle:.0f} degrees{lpi}"


#: The coarsest screen period (scan pixels) the shipped descreen model was trained on.
MAX_TRAINED_PERIOD = 10.0
#: The finest screen period (scan pixels) the detector looks for. A 300 dpi scan of a magazine
#: (133-175 lpi) has a screen of 1.7-2.3 px: its lattice, turned from the axes as screens are,
#: still lies inside the sampled spectrum as long as its period along each axis of the pixel grid
#: is at least :func:`detect_screen`'s ``min_period`` (closer to the Nyquist frequency, a lattice
#: folds back and a picture's finest detail crowds it).
MIN_PERIOD = 1.7
#: ... and such a fine lattice must stand out more than :data:`THRESHOLD`: near the Nyquist
#: frequency a flat picture's antialiased edges alone leave peaks of 2.5 (a clip-art warning
#: sign), where the training press's 300 dpi scans of 133-175 lpi prints of corpus photos
#: show 3.3-5.6
FINE_THRESHOLD = 3.0

#: Minimum prominence (natural-log magnitude above the local median) of both orthogonal peaks.
THRESHOLD = 2.5
#: a halftone carries a picture: its dots' size, and with it the local tone, changes across the
#: square. A lattice whose tone (the mean over two of its periods) varies by less than this
#: standard deviation, a share of the full scale, is a texture (a weave, graph paper, a tiled
#: pattern) or a flat tint. Chosen on the press, print and fine-screen tracks' prints of the bench
#: (136 found screens of presses A and B: 0.019 and up) against the textures the detector took for
#: screens without it (13 of the benchmark's 200 generated and corpus ones, each at most 0.006)
MIN_TONE_STD = 0.01
#: a texture photographed under uneven light has a tone that varies, but its lattice's amplitude
#: follows the light: it stays a fixed share of the local tone. A halftone's dots follow the
#: picture, so that share changes across the square (its coefficient of variation over the
#: square, this or more). Chosen on the same 136 found screens (0.036 and up) against the 16
#: generated textures of seeds 8-13, lit by a gradient, that the other rules took for screens (13
#: of them under 0.015; seeds 14-19 are the benchmark's held-out check)
MIN_SHARE_CV = 0.02
#: the screen rulings presses print (lines per inch): newsprint 65-100, magazines and books
#: 120-175, fine art up to 300; with the file's DPI, a lattice outside them is not a screen
PRINT_LPI = (50.0, 300.0)


def _block_median(x: np.ndarray, block: int = 8) -> np.ndarray:
    """A smooth local-median background of a square ``(n, n)`` map: medians of ``block`` x
    ``block`` tiles, interpolated bilinearly back to full size (n a multiple of ``block``).
    Sparse peaks do not move a tile's median, which is all the background must ignore."""
    n = x.shape[0]
    m = n // block
    med = np.median(x[: m * block, : m * block].reshape(m, block, m, block).transpose(0, 2, 1, 3).reshape(m, m, -1), axis=2)
    pos = (np.arange(n) + 0.5) / block - 0.5
    i0 = np.clip(np.floor(pos).astype(int), 0, m - 2)
    t = np.clip(pos - i0, 0.0, 1.0).astype(np.float32)
    rows = med[i0] * (1 - t)[:, None] + med[i0 + 1] * t[:, None]
    return rows[:, i0] * (1 - t)[None, :] + rows[:, i0 + 1] * t[None, :]


def _median_1d(v: np.ndarray, size: int = 9) -> np.ndarray:
    """Running median of a 1-D array (edge-replicated; ``size`` odd). NumPy, not SciPy's
    median_filter: the detector runs on every file, and a plain run need not import scipy.ndimage."""
    h = size // 2
    return np.median(np.lib.stride_tricks.sliding_window_view(np.pad(v, h, mode="edge"), size), axis=-1).astype(v.dtype)


def _max_filter(x: np.ndarray, size: int = 5) -> np.ndarray:
    """``size`` x ``size`` maximum filter (borders padded with -inf; ``size`` odd), in NumPy as
    :func:`_median_1d` is."""
    h, (n, m) = size // 2, x.shape
    p = np.pad(x, h, mode="constant", constant_values=-np.inf)
    rows = p[:n]
    for k in range(1, size):  # separable: the rows' maximum over the window, then the columns'
        rows = np.maximum(rows, p[k:k + n])
    out = rows[:, :m]
    for k in range(1, size):
        out = np.maximum(out, rows[:, k:k + m])
    return out


def _magnitude(x: np.ndarray) -> np.ndarray:
    """``|FFT2(x)|`` of a real ``(n, m)`` float32 array, float32. From NumPy's real transform and
    the spectrum's symmetry (``F[-i, -j]`` is the conjugate of ``F[i, j]``): a plain run, which
    detects on every file, need not import scipy.fft (0.2 s), and the half transform costs half
    NumPy's full one (2 ms for 256 x 256 here, against 0.5 ms for SciPy's full one)."""
    n, m = x.shape
    half = np.abs(np.fft.rfft2(x))
    h = m // 2 + 1
    out = np.empty((n, m), half.dtype)
    out[:, :h] = half
    out[:, h:] = half[-np.arange(n) % n][:, m - np.arange(h, m)]
    return out


def _full_scale(dtype: np.dtype) -> float:
    """The level of full intensity in an array of ``dtype``: its maximum for integers, 1 for floats."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def _gray(pixels: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32: the mean of the first three channels (or the only one), in the
    input's own scale. Summed a plane at a time (the same sums as a mean over the last axis,
    without a float copy of the whole picture)."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    if pixels.shape[2] < 3:
        return pixels[..., 0].astype(np.float32)
    x = pixels[..., 0].astype(np.float32)
    x += pixels[..., 1]
    x += pixels[..., 2]
    x /= np.float32(3.0)
    return x


@functools.lru_cache(maxsize=8)
def _geometry(n: int, min_period: float, max_period: float, min_axis_period: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The ``(n, n)`` Hann window and the spectrum's search band (periods ``min_period`` to
    ``max_period``, and at least ``min_axis_period`` along either axis; the upper half plane: a
    real picture's spectrum is symmetric), made once per size: a page's tiles all share them."""
    win = np.hanning(n).astype(np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    c = n // 2
    r = np.hypot(yy - c, xx - c)
    axis = n / max(min_axis_period, 1.0)
    band = (r >= n / max_period) & (r <= n / min_period) & (yy <= c) & (np.abs(yy - c) <= axis) & (np.abs(xx - c) <= axis)
    window = win[:, None] * win[None, :]
    window.flags.writeable = False
    band.flags.writeable = False
    return window, band


def _spectrum(square: np.ndarray, min_period: float, max_period: float,
              min_axis_period: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spectrum of an ``(n, n)`` or ``(n, n, C)`` square (n a multiple of 16), as the
    detectors read it: each frequency's prominence (natural-log magnitude above the local
    median), the log magnitude, and the candidate peaks (prominence at local maxima within the
    search band of ``min_period`` to ``max_period`` px, the upper half plane; -inf elsewhere).
    All three ``(n, n)``, the zero frequency at ``(n // 2, n // 2)``."""
    n = square.shape[0]
    crop = _gray(square)  # only the square in float: a huge scan is never copied whole
    crop = crop - crop.mean()
    window, band = _geometry(n, min_period, max_period, min_axis_period)
    spec = np.fft.fftshift(_magnitude(crop * window))
    logm = np.log(spec + 1e-6)
    background = _block_median(logm)
    # straight horizontal and vertical lines (rules, frames, line art) draw ridges along the
    # axes of the spectrum; there a peak must also stand above its neighbours on the ridge
    c = n // 2
    for k in range(c - 2, c + 3):
        background[k] = np.maximum(background[k], _median_1d(logm[k]))
        background[:, k] = np.maximum(background[:, k], _median_1d(logm[:, k]))
    prominence = logm - background
    cand = np.where(band & (prominence == _max_filter(prominence, 5)), prominence, -np.inf)
    return prominence, logm, cand


def _strongest(cand: np.ndarray, most: int = 12) -> np.ndarray:
    """Flat indices of the ``most`` strongest candidate peaks of at least :data:`THRESHOLD`,
    strongest first (only these can pass: a few are sorted, not n * n)."""
    peaks = np.flatnonzero(cand.ravel() >= THRESHOLD)
    return peaks[np.argsort(cand.ravel()[peaks])[::-1][:most]]


_Peak = tuple[float, float, float, int, int]


def _lattices(cand: np.ndarray, prominence: np.ndarray, threshold: float = THRESHOLD) -> list[_Peak]:
    """The lattices among the strongest candidate peaks of ``cand`` (:func:`_spectrum`'s, maybe
    restricted to part of its band): ``(strength, period, angle, fy, fx)`` of each, its peak's
    frequency from the centre of the ``(n, n)`` spectrum. A peak counts with its orthogonal
    partner at the same radius; its strength is the weaker of the two, at least ``threshold``.
    Two peaks that both lie on streaks through the centre (:func:`_streak`, the radial edges of
    a drawing such as a dartboard's sectors) are no lattice."""
    n = cand.shape[0]
    c = n // 2
    found: list[_Peak] = []
    for idx in _strongest(cand):
        p1 = float(cand.ravel()[idx])
        if not np.isfinite(p1) or p1 < threshold:
            break
        py, px = divmod(int(idx), n)
        fy, fx = py - c, px - c
        radius = float(np.hypot(fy, fx))
        # the orthogonal partner at the same radius (rotate the frequency vector by 90 degrees)
        qy, qx = -fx, fy
        if qy > 0:
            qy, qx = -qy, -qx
        qy_i, qx_i = int(round(qy)) + c, int(round(qx)) + c
        ys, xs = slice(max(0, qy_i - 2), qy_i + 3), slice(max(0, qx_i - 2), qx_i + 3)
        near = prominence[ys, xs]
        if not near.size:
            continue
        p2 = float(near.max())
        ky, kx = divmod(int(near.argmax()), near.shape[1])
        strength = min(p1, p2)
        # both peaks on streaks through the centre: two straight edges of a drawing, not dots
        if strength >= threshold and min(_streak(prominence, fy, fx),
                                         _streak(prominence, ys.start + ky - c, xs.start + kx - c)) < STREAK:
            found.append((strength, n / radius, float(np.degrees(np.arctan2(fy, fx))) % 90.0, fy, fx))
    return found


#: a peak lies on a streak through the spectrum's centre (a straight edge of a drawing, drawn out
#: to the highest frequencies) when the prominence along its ray, a little inside and outside it,
#: has this median; on training prints it stays under 0.3 (the picture's own edges are blurred by
#: the screen), on a dartboard's radial sectors it is 1.3
STREAK = 0.8


def _streak(prominence: np.ndarray, fy: float, fx: float) -> float:
    """The median prominence on the ray from the centre of the ``(n, n)`` spectrum through the
    frequency ``(fy, fx)``, at 0.7-0.88 and 1.12-1.3 of its radius (no harmonic lies there):
    about 0 around a screen's point-like peak, high where the peak sits on a streak."""
    n = prominence.shape[0]
    c = n // 2
    t = np.r_[np.linspace(0.7, 0.88, 8), np.linspace(1.12, 1.3, 8)]
    ys = np.clip(np.rint(c + fy * t).astype(int), 0, n - 1)
    xs = np.clip(np.rint(c + fx * t).astype(int), 0, n - 1)
    return float(np.median(prominence[ys, xs]))


def _screen_of(found: list[_Peak]) -> _Peak | None:
    """The screen among lattices: of the near-strongest, the one with the longest period
    (harmonics sit at shorter periods, ink-to-ink beats are weaker)."""
    if not found:
        return None
    top = max(f[0] for f in found)
    return max((f for f in found if f[0] >= 0.85 * top), key=lambda f: f[1])


def detect_screen(pixels: np.ndarray, dpi: float | None = None, max_side: int = 512,
                  min_period: float = 2.2, max_period: float = 16.0, fine_period: float = MIN_PERIOD,
                  tint: bool = False) -> ScreenReport:
    """Detect a halftone screen in an image.

    Args:
        pixels: ``(H, W)`` or ``(H, W, C)`` array, any numeric dtype.
        dpi: the scan's resolution, to report lines per inch.
        max_side: analyse a centred crop of at most this side.
        min_period, max_period: screen periods (pixels) to look for.
        fine_period: and finer ones down to this, turned from the pixel grid (at least
            ``min_period`` along either axis), as a 300 dpi scan of a magazine has. Such a
            lattice must stand out more (:data:`FINE_THRESHOLD`) and repeat on no coarser one;
            its harmonics folded back past the Nyquist frequency, which look like a coarser
            lattice of their own, are then no candidates, and the usual rule picks the screen.
        tint: take a lattice that no picture modulates (its tone flat across the square, or its
            strength following the light: :func:`_modulated`) for a screen too: a flat tint, as ``--type=print`` does where
            the user has said the file is a print. Without it such a lattice is a texture.

    Returns:
        A :class:`ScreenReport`.
    """
    y0, x0, n = _centre(pixels, max_side)
    if n < 64:
        return ScreenReport(False)
    lowest = min(min_period, fine_period)
    prominence, logm, cand = _spectrum(pixels[y0:y0 + n, x0:x0 + n], lowest, max_period, min_period)
    radius = _radius(n)
    found = _lattices(np.where(radius <= n / min_period, cand, -np.inf), prominence)
    fine = _lattices(np.where(radius > n / min_period, cand, -np.inf), prominence, FINE_THRESHOLD) \
        if lowest < min_period else []
    # a fine lattice that is a coarser one's harmonics (twice a 3.5 px screen's frequency) is not
    # a screen of its own
    if fine:
        coarse = [_harmonics(n / g[1], g[2]) for g in found]
        fine = [f for f in fine if not any(_near(h, f[3], f[4]) for h in coarse)]
    if fine:
        f = _screen_of(fine)
        assert f is not None
        folds = _folded_harmonics(n, n / f[1], f[2])
        if _superlattice(prominence, logm, n / f[1], f[2], folded=folds) >= SUPERLATTICE:
            fine = []  # a fine texture, or a coarser screen's harmonics
        else:  # its harmonics folded back past the Nyquist frequency are not a screen of their own
            found = [g for g in found if not _near(folds, g[3], g[4])] + fine
    best = _screen_of(found)
    if best is None:
        top = float(cand.max()) if np.isfinite(cand.max()) else 0.0
        return ScreenReport(False, strength=min(top, THRESHOLD))
    strength, period, angle = best[:3]
    lpi = dpi / period if dpi else None
    if lpi is not None and not PRINT_LPI[0] <= lpi <= PRINT_LPI[1]:
        # a lattice whose ruling no press prints at this resolution: graph paper, a woven texture
        return ScreenReport(False, strength=min(strength, THRESHOLD))
    if best not in fine and _superlattice(prominence, logm, n / period, angle) >= SUPERLATTICE:
        # the lattice repeats on a coarser one as well: a ruled grid, a weave, graph paper, a tiling
        return ScreenReport(False, strength=min(strength, THRESHOLD))
    if not tint and not _modulated(pixels[y0:y0 + n, x0:x0 + n], period, angle):
        # one lattice, evenly inked across the square or following the light: no picture in it
        return ScreenReport(False, strength=min(strength, THRESHOLD))
    return ScreenReport(True, period, angle, lpi, strength)


def _centre(pixels: np.ndarray, max_side: int) -> tuple[int, int, int]:
    """``(y0, x0, n)``: the centred square of ``pixels`` that :func:`detect_screen` reads, its
    side ``n`` at most ``max_side`` and a multiple of 16."""
    h, w = pixels.shape[:2]
    n = min(max_side, h, w)
    n -= n % 16
    return (h - n) // 2, (w - n) // 2, n


def _modulated(square: np.ndarray, period: float, angle: float) -> bool:
    """Whether a picture modulates the lattice of ``period`` px at ``angle`` degrees in the
    square (:func:`_modulation` against :data:`MIN_TONE_STD` and :data:`MIN_SHARE_CV`)."""
    spread, share_cv = _modulation(square, period, angle)
    return spread >= MIN_TONE_STD and share_cv >= MIN_SHARE_CV


def _modulation(square: np.ndarray, period: float, angle: float) -> tuple[float, float]:
    """How a picture modulates the lattice of ``period`` px at ``angle`` degrees in an ``(n, n)``
    or ``(n, n, C)`` square: the standard deviation of its local tone (the mean over two periods,
    a share of the dtype's full scale), and the coefficient of variation of the lattice's local
    amplitude (the weaker of its two orthogonal components, demodulated and low-passed over 1.5
    periods) over that tone. Both read away from the square's edge, on cells of half a period
    (the demodulated products averaged over each: they hold nothing finer once low-passed)."""
    from scipy.ndimage import gaussian_filter

    g = _gray(square) / np.float32(_full_scale(square.dtype))
    b = max(1, int(period / 2))
    m = g.shape[0] // b
    g = g[:m * b, :m * b]

    def cells(v: np.ndarray, sigma: float) -> np.ndarray:  # real or complex
        return gaussian_filter(v.reshape(m, b, m, b).mean(axis=(1, 3)), sigma / b, mode="nearest")

    tone = cells(g, 2.0 * period)
    k = np.arange(m * b, dtype=np.float32) * np.float32(2.0 * np.pi / period)
    a = np.deg2rad(angle)
    amps = []
    for ux, uy in ((np.cos(a), np.sin(a)), (-np.sin(a), np.cos(a))):
        # the carrier as an outer product of its two axes; the picture's tone, shifted to the
        # carrier's frequency, is gone after the low-pass (a factor of e^-44)
        carrier = np.exp(-1j * uy * k).astype(np.complex64)[:, None] * np.exp(-1j * ux * k).astype(np.complex64)[None, :]
        amps.append(np.abs(cells(g * carrier, 1.5 * period)))
    e = min(m // 4, int(np.ceil(4.0 * period / b)))
    inner = (slice(e, m - e), slice(e, m - e))
    share = (np.minimum(amps[0], amps[1]) / np.maximum(tone, 0.02))[inner]
    return float(tone[inner].std()), float(share.std() / max(float(share.mean()), 1e-9))


@functools.lru_cache(maxsize=8)
def _radius(n: int) -> np.ndarray:
    """``(n, n)``: each frequency's distance from the centre of an ``n``-point spectrum."""
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(yy - n // 2, xx - n // 2)
    r.flags.writeable = False
    return r


#: a lattice with a peak of this prominence at a fraction of its own frequencies is a texture
#: (a screen's only peaks are its lattice's). Chosen on 96 screened scans of both presses (their
#: strongest such peak 0.8-2.1) against 10 generated textures of seeds the benchmark does not
#: draw and the 25 corpus texture crops it also scores (2.3-6.8)
SUPERLATTICE = 2.25


def _superlattice(prominence: np.ndarray, logm: np.ndarray, radius: float, angle: float, most: int = 6,
                  folded: np.ndarray | None = None) -> float:
    """The strongest peak of the (n, n) ``prominence`` map at a fraction j/k (k up to ``most``)
    of the lattice's frequency vectors (both axes and both diagonals) or at a half-integer point
    of the lattice (up to 1.6 times its frequency and a third of the sampling rate), outside the
    lowest 10 frequencies, among those of at least 1 % of the lattice's own amplitude (``logm``
    is the log-magnitude spectrum: in a noise-free picture a trace of leakage is "prominent"
    too). A halftone screen has none: it is one lattice of dots, modulated by the picture.
    Grids of lines, weaves, graph paper (a dot ruling inside ruled lines) and tiled patterns
    repeat on a coarser lattice too, whose harmonics land there. Points within 2.5 of those of
    ``folded`` ``(k, 2)`` (:func:`_folded_harmonics`: a fine screen's own harmonics, folded back
    past the Nyquist frequency) are not read."""
    n = prominence.shape[0]
    c = n // 2
    g1, g2 = _basis(radius, angle)
    y1, x1 = int(round(g1[0])) + c, int(round(g1[1])) + c
    floor = float(logm[max(0, y1 - 2):y1 + 3, max(0, x1 - 2):x1 + 3].max()) - np.log(100.0)
    points = [vec * j / k for vec in (g1, g2, g1 + g2, g1 - g2) for k in range(2, most + 1)
              for j in range(1, k) if np.gcd(j, k) == 1]
    # and the half-integer points around the lattice: a weave's over-under doubles its cell
    # (not near the Nyquist frequency, where a fine rosette's harmonics fold back)
    points += [(p * g1 + q * g2) / 2 for p in range(-3, 4) for q in range(0, 4) if p % 2 or q % 2
               if np.hypot(p, q) <= 3.2 and np.hypot(p, q) * radius / 2 <= n / 3]
    best = -np.inf
    for fy, fx in points:
        # the picture's own coarse content; a fine lattice's own harmonics, folded back
        if np.hypot(fy, fx) < 10 or (folded is not None and _near(folded, fy, fx)):
            continue
        y, x = int(round(fy)) + c, int(round(fx)) + c
        if 1 <= y < n - 1 and 1 <= x < n - 1:
            near = (slice(y - 1, y + 2), slice(x - 1, x + 2))
            if float(logm[near].max()) >= floor:
                best = max(best, float(prominence[near].max()))
    return best


def _basis(radius: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The two frequency vectors ``(fy, fx)`` (as the spectrum is indexed) of the lattice of
    ``radius`` (frequency-index units) and ``angle`` (degrees)."""
    a = np.deg2rad(angle)
    return np.array([np.sin(a), np.cos(a)]) * radius, np.array([np.cos(a), -np.sin(a)]) * radius


def _harmonics(radius: float, angle: float, order: int = 3) -> np.ndarray:
    """``(k, 2)`` float: the harmonics ``a g1 + b g2`` (``|a|, |b| <= order``, not both 0) of the
    lattice of ``radius`` (frequency-index units) and ``angle`` (degrees), as ``(fy, fx)``."""
    g1, g2 = _basis(radius, angle)
    return np.asarray([i * g1 + j * g2 for i in range(-order, order + 1) for j in range(-order, order + 1)
                       if i or j], np.float64)


def _folded_harmonics(n: int, radius: float, angle: float, order: int = 3) -> np.ndarray:
    """``(k, 2)`` float: where the harmonics ``a g1 + b g2`` (``|a|, |b| <= order``) of the lattice
    of ``radius`` (frequency-index units of an ``n``-point spectrum) and ``angle`` (degrees) lie
    once folded back into the spectrum, as ``(fy, fx)`` from its centre, both signs; only those
    past the Nyquist frequency, which a scan samples as coarser frequencies. Empty for a lattice
    whose harmonics up to ``order`` all fit."""
    h = _harmonics(radius, angle, order)
    h = h[np.abs(h).max(axis=1) > n / 2]
    f = (h + n / 2) % n - n / 2
    return np.concatenate([f, -f]).reshape(-1, 2)


def _near(points: np.ndarray, fy: float, fx: float, within: float = 2.5) -> bool:
    """Whether ``(fy, fx)`` lies within ``within`` frequency indices of one of ``points`` ``(k, 2)``."""
    return bool(points.size) and bool((np.hypot(points[:, 0] - fy, points[:, 1] - fx) < within).any())


@dataclass
class ScreenMap:
    """Where a page carries a halftone screen: the detector run over it in tiles.

    Attributes:
        tile: tile side in pixels.
        grid: ``(rows, cols)`` bool, True where a tile carries a screen.
        report: the strongest screened tile's report (period, angle, lpi), or a "not found" one.
        reports: each screened tile's own report, by ``(row, col)`` in the grid.
    """

    tile: int
    grid: np.ndarray
    report: ScreenReport
    reports: dict[tuple[int, int], ScreenReport] = field(default_factory=dict)

    def regions(self, height: int, width: int) -> list[tuple[tuple[int, int, int, int], ScreenReport]]:
        """The screened regions (tiles that touch, joined), largest first: each one's box
        ``(top, left, height, width)`` in pixels of a ``height`` x ``width`` page, and the report
        of its strongest tile (its period and angle)."""
        from scipy.ndimage import find_objects, label

        labels, _ = label(self.grid)
        out = []
        for k, sl in enumerate(find_objects(labels), start=1):
            if sl is None:
                continue
            cells = [(i, j) for i in range(sl[0].start, sl[0].stop) for j in range(sl[1].start, sl[1].stop)
                     if labels[i, j] == k]
            best = max((self.reports.get(c, self.report) for c in cells), key=lambda r: r.strength)
            top, left = sl[0].start * self.tile, sl[1].start * self.tile
            bottom = height if sl[0].stop == self.grid.shape[0] else min(height, sl[0].stop * self.tile)
            right = width if sl[1].stop == self.grid.shape[1] else min(width, sl[1].stop * self.tile)
            out.append(((top, left, bottom - top, right - left), best))
        return sorted(out, key=lambda t: -t[0][2] * t[0][3])

    def regions_of(self, mask: np.ndarray) -> list[tuple[tuple[int, int, int, int], ScreenReport]]:
        """The regions a pixel mask (:meth:`region_mask`) descreens, largest first: each one's
        box ``(top, left, height, width)`` and the report of the strongest screened tile it
        overlaps. Specks smaller than a sixteenth of a tile are left out."""
        from scipy.ndimage import find_objects, label

        labels, _ = label(mask > 0.5)
        out = []
        t = self.tile
        for sl in find_objects(labels):
            if sl is None:
                continue
            top, left = sl[0].start, sl[1].start
            h, w = sl[0].stop - top, sl[1].stop - left
            if h * w < (t // 4) ** 2:
                continue
            near = [r for (i, j), r in self.reports.items()
                    if i * t < top + h and (i + 1) * t > top and j * t < left + w and (j + 1) * t > left]
            out.append(((top, left, h, w), max(near, key=lambda r: r.strength) if near else self.report))
        return sorted(out, key=lambda b: -b[0][2] * b[0][3])

    @staticmethod
    def describe_regions(regions: list[tuple[tuple[int, int, int, int], ScreenReport]], most: int = 4) -> str:
        """One line naming ``regions`` (:meth:`regions_of`, at most ``most``), for ``-v`` and the report."""
        parts = [f"x {left}-{left + w}, y {top}-{top + h} (period {r.period:.1f} px at {r.angle:.0f} degrees)"
                 if r.period is not None and r.angle is not None else f"x {left}-{left + w}, y {top}-{top + h}"
                 for (top, left, h, w), r in regions[:most]]
        more = f" and {len(regions) - most} more" if len(regions) > most else ""
        return "screened regions: " + "; ".join(parts) + more

    @property
    def fraction(self) -> float:
        """The share of the page's tiles that carry a screen, 0 to 1."""
        return float(self.grid.mean()) if self.grid.size else 0.0

    def region_mask(self, pixels: np.ndarray, feather: float = 6.0) -> np.ndarray:
        """``(H, W)`` float32 in [0, 1]: where ``pixels`` carry the screen, to the pixel. Within
        the screened tiles and one tile around them, a pixel is screened where the lattice makes
        up most of its detail (:func:`lattice_purity`, against the screened tiles' own level),
        so type beside a photo in the same tile is left out; holes closed (and any enclosed one filled) and specks dropped over
        two periods; parts that are no printed picture dropped (:func:`_picture_parts`: specks
        and parts in the tiles round the screened ones, away from a picture); the flat patches (solid ink, blank paper) that a connected part's bounding box
        holds joined to it (:func:`_flat_within_box`: a photo's solid shadows that reach its edge);
        then grown by one period and feathered over ``feather`` px (the edge reaches at most 30 px
        past the photo)."""
        from scipy.ndimage import (binary_closing, binary_dilation, binary_fill_holes, binary_opening, gaussian_filter,
                                   label)

        h, w = pixels.shape[:2]
        coarse = self.mask(h, w, feather=0) > 0.5
        if not coarse.any() or self.report.period is None or self.report.angle is None:
            return coarse.astype(np.float32)
        t = self.tile
        near = binary_dilation(self.grid, np.ones((3, 3), bool))  # the eight tiles around each
        rows, cols = np.nonzero(near)
        y0, y1 = rows.min() * t, min(h, (rows.max() + 1) * t) if rows.max() + 1 < near.shape[0] else h
        x0, x1 = cols.min() * t, min(w, (cols.max() + 1) * t) if cols.max() + 1 < near.shape[1] else w
        gray = _gray(pixels[y0:y1, x0:x1])
        period = float(self.report.period)
        b = max(1, int(period / 1.5))  # the purity and its clean-up on a grid b times coarser
        pur = lattice_purity(gray, period, float(self.report.angle), step=b)
        level = float(np.percentile(pur[coarse[y0:y1:b, x0:x1:b]], 90))
        on = pur > max(MIN_PURITY, PURITY_SHARE * level)
        r = max(1, int(round(2 * period / b)))
        disk = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= r
        on = binary_fill_holes(binary_opening(binary_closing(on, disk), disk))  # a photo's flat highlights too
        parts, _ = label(on, np.ones((3, 3), bool))  # each part its own box: two photos never share one
        parts = _picture_parts(parts, self.grid, t, b, (y0, x0), period)
        on = parts > 0
        solid = _flat_within_box(parts, _flat(gray, pixels.dtype, b, period, on.shape))
        if solid.any():  # a photo's solids at its edge, and the seam between them and its dots
            on = binary_closing(on | solid, disk)
        on = binary_dilation(on, iterations=max(1, int(round(period / b))))
        on = on.repeat(b, axis=0).repeat(b, axis=1)[:y1 - y0, :x1 - x0]
        m = np.zeros((h, w), np.float32)
        rows_in = np.minimum(np.arange(y0, y1) // t, near.shape[0] - 1)
        cols_in = np.minimum(np.arange(x0, x1) // t, near.shape[1] - 1)
        m[y0:y1, x0:x1] = (on & near[rows_in][:, cols_in]).astype(np.float32)
        if feather > 0:  # only around the screened part: the rest stays 0
            r = int(np.ceil(3.0 * feather)) + 1
            win = (slice(max(0, y0 - r), min(h, y1 + r)), slice(max(0, x0 - r), min(w, x1 + r)))
            m[win] = np.clip(gaussian_filter(m[win], feather, mode="nearest", truncate=3.0), 0.0, 1.0)
            m[m < 1e-3] = 0.0
        return m

    def mask(self, height: int, width: int, feather: int = 24) -> np.ndarray:
        """``(height, width)`` float32 in [0, 1]: 1 in screened tiles, 0 elsewhere, the edges
        feathered over about ``feather`` pixels so the descreened regions blend into the rest."""
        from scipy.ndimage import gaussian_filter

        rows = np.minimum(np.arange(height) // self.tile, self.grid.shape[0] - 1)
        cols = np.minimum(np.arange(width) // self.tile, self.grid.shape[1] - 1)
        m = self.grid[rows][:, cols].astype(np.float32)
        if feather > 0 and 0 < m.mean() < 1:
            step = max(1, feather // 4)  # blurred on a coarser grid: cheap on a whole page
            small = gaussian_filter(m[::step, ::step], feather / step / 2.0, mode="nearest")
            m = np.clip(small.repeat(step, axis=0).repeat(step, axis=1)[:height, :width], 0.0, 1.0)
        return np.ascontiguousarray(m, dtype=np.float32)


#: a patch is flat (solid ink, blank paper: no dots to find) where its standard deviation over
#: two screen periods is under this share of the full scale (scanner noise is 0.4-1.5 %)
FLAT_STD = 0.03
#: a flat patch joins a connected screened part when this share of it lies within the part's box
BOX_SHARE = 0.7


def _flat(gray: np.ndarray, dtype: np.dtype, b: int, period: float, shape: tuple[int, int]) -> np.ndarray:
    """``shape`` bool, a grid ``b`` px a cell over ``gray`` (``(H, W)``, in the scale of ``dtype``):
    True where the picture is flat (:data:`FLAT_STD` over two screen periods of ``period`` px)."""
    from scipy.ndimage import uniform_filter

    top = _full_scale(dtype)
    h, w = shape
    g = np.pad(gray, ((0, h * b - gray.shape[0]), (0, w * b - gray.shape[1])), mode="edge")
    m1 = g.reshape(h, b, w, b).mean(axis=(1, 3))
    g *= g
    m2 = g.reshape(h, b, w, b).mean(axis=(1, 3))
    k = max(3, int(round(2 * period / b)) | 1)
    var = uniform_filter(m2, k, mode="nearest") - uniform_filter(m1, k, mode="nearest") ** 2
    return var < (FLAT_STD * top) ** 2


#: a printed picture is a part of the pixel mask this many screen periods across or more (its
#: area at least this many squared), in the screened tiles: a smaller part, or one in the tiles
#: round them, is kept only within :data:`NEAR_PERIODS` of such a picture's box (a piece of the
#: same photo cut off by a flat patch lies 0-6 periods from it); elsewhere it is a few letters
#: whose strokes or spacing match the screen (300 dpi type beside a 2 px screen: specks 7-11 px
#: across, 50-100 periods from the photo)
MIN_PART_PERIODS = 16
NEAR_PERIODS = 12


def _picture_parts(parts: np.ndarray, grid: np.ndarray, tile: int, b: int, origin: tuple[int, int],
                   period: float) -> np.ndarray:
    """``parts`` (labelled connected parts of the mask on a grid ``b`` px a cell whose first cell
    is at pixel ``origin``) with only the printed pictures kept: the parts that reach into a
    screened tile of ``grid`` (``tile`` px a cell) and cover :data:`MIN_PART_PERIODS` squared
    periods of ``period`` px, and the other parts within :data:`NEAR_PERIODS` of one of their
    boxes. Without such a picture, every part that reaches into a screened tile is kept. The
    dropped parts' labels are set to 0."""
    from scipy.ndimage import find_objects

    count = int(parts.max())
    if not count:
        return parts
    y0, x0 = origin
    rows = np.minimum((y0 + b * np.arange(parts.shape[0])) // tile, grid.shape[0] - 1)
    cols = np.minimum((x0 + b * np.arange(parts.shape[1])) // tile, grid.shape[1] - 1)
    screened = grid[rows][:, cols]
    size = np.bincount(parts.ravel(), minlength=count + 1) * float(b * b)
    inside = np.bincount(parts.ravel(), weights=screened.ravel(), minlength=count + 1) > 0
    anchor = inside & (size >= (MIN_PART_PERIODS * period) ** 2)
    anchor[0] = inside[0] = False
    if not anchor.any():
        return np.where(inside[parts], parts, 0)
    # each part's box (top, left, bottom, right) in cells; a part's gap to an anchor's box is the
    # largest of the four one-sided distances, 0 where they overlap
    boxes = np.array([(sl[0].start, sl[1].start, sl[0].stop, sl[1].stop) if sl is not None else (0, 0, 0, 0)
                      for sl in find_objects(parts)], dtype=np.int64)
    own, anc = boxes[:, None, :], boxes[anchor[1:]][None, :, :]
    gap = np.stack([anc[..., 0] - own[..., 2], own[..., 0] - anc[..., 2],
                    anc[..., 1] - own[..., 3], own[..., 1] - anc[..., 3]]).max(axis=0).clip(min=0)
    keep = np.concatenate([[False], (gap <= NEAR_PERIODS * period / b).any(axis=1)]) & (size > 0)
    return np.where(keep[parts], parts, 0)


def _flat_within_box(parts: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The ``flat`` patches (bool, solid ink or blank paper: no detail) that a screened part's
    bounding box holds (at least :data:`BOX_SHARE` of each), on the grid of ``parts`` (each
    connected part's cells labelled, 0 elsewhere): a printed photo is a rectangle, and its solid shadows
    and blank highlights carry no lattice; where they reach the photo's edge no hole is there to
    fill. The paper round a photo and between lines of type runs on outside the box, so it
    stays out. Returns a bool mask of the grid."""
    from scipy.ndimage import find_objects, label

    on = parts > 0
    box = np.zeros_like(on)
    for sl in find_objects(parts):
        if sl is not None:
            box[sl] = True
    patches, count = label(flat & ~on)
    if not count:
        return np.zeros_like(on)
    size = np.bincount(patches.ravel(), minlength=count + 1)
    held = np.bincount(patches.ravel(), weights=box.ravel(), minlength=count + 1)
    keep = held >= BOX_SHARE * np.maximum(size, 1)
    keep[0] = False
    return keep[patches] & box


#: a pixel is screened where the lattice's share of the local detail passes this share of the
#: screened tiles' typical (90th percentile) share, and at least :data:`MIN_PURITY`
PURITY_SHARE = 0.5
MIN_PURITY = 0.1
#: the rosette: besides the strongest screen, the other inks' angles (degrees apart)
_ROSETTE = (0.0, 15.0, 30.0, 45.0, 60.0, 75.0)


def lattice_purity(gray: np.ndarray, period: float, angle: float, step: int = 1) -> np.ndarray:
    """How much of the local detail is a screen of ``period`` px at ``angle`` (or at the
    rosette's other angles): about 0 (type, line art, noise: broadband) to 1 (nothing but the
    lattice). Per angle, the two orthogonal components are demodulated and low-passed over 1.5
    periods (a lock-in); the weaker of the two, at the best angle, over the local high-pass
    energy (the picture minus its blur over one period).

    The lock-in is read from one FFT of the (reflect-padded) picture: each carrier's band,
    weighted by the low-pass, is transformed back on its own small grid (exact decimation, as the
    low-passed amplitude holds nothing finer), three sigmas of the low-pass wide, then
    interpolated (cubic) to the output grid.

    Args:
        gray: ``(H, W)`` float in [0, 1].
        period: the screen's period in px (above 2).
        angle: the screen's angle in degrees.
        step: the output grid's pixel, in input pixels; each output cell is read at the centre
            of its ``step`` x ``step`` block (the energy as the block's mean).

    Returns:
        ``(ceil(H / step), ceil(W / step))`` float32, about 0 to 1.
    """
    import scipy.fft
    from scipy.ndimage import gaussian_filter, gaussian_filter1d, zoom

    g = gray.astype(np.float32)
    h, w = g.shape
    b = max(1, int(step))
    hb, wb = -(-h // b), -(-w // b)
    s = 1.5 * period  # the lock-in's low-pass sigma, px
    r = max(1, int(np.pi * s / 3.0 / b))  # carrier grid r times coarser: its band holds 3 sigmas of the low-pass
    bc = r * b
    m = -(-int(np.ceil(4.0 * s)) // bc)  # the reflected margin, in carrier cells
    mcy = scipy.fft.next_fast_len(-(-hb // r) + 2 * m)
    mcx = scipy.fft.next_fast_len(-(-wb // r) + 2 * m)
    ny, nx, pad = mcy * bc, mcx * bc, m * bc
    # the high-pass on the reflected picture; the lock-in on it zero-padded, each amplitude then
    # divided by the low-pass's share that fell inside the picture (a normalised convolution:
    # a lattice reflected at an edge would cancel itself)
    spec = scipy.fft.rfft2(np.pad(g, ((pad, ny - h - pad), (pad, nx - w - pad)), mode="symmetric"), workers=-1)
    fy, fx = scipy.fft.fftfreq(ny).astype(np.float32), scipy.fft.rfftfreq(nx).astype(np.float32)
    k2 = -2.0 * np.pi ** 2 * period ** 2
    spec *= 1.0 - np.exp(k2 * fy * fy)[:, None] * np.exp(k2 * fx * fx)[None, :]
    hp = scipy.fft.irfft2(spec, (ny, nx), workers=-1)[pad:pad + h, pad:pad + w]
    spec = scipy.fft.fft2(np.pad(hp, ((pad, ny - h - pad), (pad, nx - w - pad))), workers=-1)

    def inside(n: int, size: int) -> np.ndarray:
        """The low-pass's share inside the picture at each carrier cell's centre, on one axis."""
        ind = np.zeros(n, np.float64)
        ind[pad:pad + size] = 1.0
        share = gaussian_filter1d(ind, s, mode="constant", truncate=4.0)
        return np.interp(np.arange(n // bc) * bc + (bc - 1) / 2.0, np.arange(n), share).astype(np.float32)

    share = np.maximum(inside(ny, h)[:, None] * inside(nx, w)[None, :], 1e-3)
    centre = (bc - 1) / 2.0
    jy = np.rint(scipy.fft.fftfreq(mcy) * mcy).astype(np.int64)
    jx = np.rint(scipy.fft.fftfreq(mcx) * mcx).astype(np.int64)

    def band(freq: float, n: int, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bins around the carrier ``freq`` (cycles/px) on an axis of ``n``, and their
        weights: the low-pass, and the phase that reads each cell at its block's centre."""
        i0 = int(round(freq * n))
        off = (i0 + j) / n - freq
        weight = np.exp(-2.0 * np.pi ** 2 * s * s * off * off) * np.exp(2j * np.pi * j * centre / n)
        return (i0 + j) % n, weight.astype(np.complex64)

    best = np.zeros((mcy, mcx), np.float32)
    for d in _ROSETTE:
        a = np.deg2rad(angle + d)
        amps = []
        for ux, uy in ((np.cos(a), np.sin(a)), (-np.sin(a), np.cos(a))):
            iy, wy = band(uy / period, ny, jy)
            ix, wx = band(ux / period, nx, jx)
            win = spec[np.ix_(iy, ix)]
            win *= wy[:, None]
            win *= wx[None, :]
            amps.append(np.abs(scipy.fft.ifft2(win, workers=-1, overwrite_x=True)))
        np.maximum(best, np.minimum(amps[0], amps[1]), out=best)
    best /= share * (bc * bc)  # and the small inverse transforms' scale
    if r > 1:
        best = zoom(best, r, order=3, mode="nearest", grid_mode=True)
    best = best[m * r:m * r + hb, m * r:m * r + wb]
    energy = np.pad(hp * hp, ((0, hb * b - h), (0, wb * b - w)), mode="edge").reshape(hb, b, wb, b).mean(axis=(1, 3))
    rms = np.sqrt(np.maximum(gaussian_filter(energy, s / b, truncate=3.0), 0.0))
    return (best / (rms + 1e-4)).astype(np.float32)


def screen_map(pixels: np.ndarray, dpi: float | None = None, tile: int = 256) -> ScreenMap:
    """Run :func:`detect_screen` over the page in ``tile`` squares (13 ms per 256² on this
    machine), so a photo off the centre of a page is found and the type beside it is not. A
    region of screened tiles that touch is kept when a picture modulates the lattice in at
    least one of them (:func:`_modulated`): a photo's flat sky is screened with the rest of it,
    an evenly woven texture is not.

    Args:
        pixels: ``(H, W)`` or ``(H, W, C)`` array.
        dpi: the scan's resolution, for the reports' lpi.
        tile: the squares' side; a page smaller than two tiles is one square (the centre crop).
    """
    h, w = pixels.shape[:2]
    if h < 2 * tile and w < 2 * tile:
        r = detect_screen(pixels, dpi)
        return ScreenMap(max(h, w), np.array([[r.found]]), r)
    from scipy.ndimage import find_objects, label

    ny, nx = max(1, h // tile), max(1, w // tile)
    grid = np.zeros((ny, nx), bool)
    reports: dict[tuple[int, int], ScreenReport] = {}
    lattice: dict[tuple[int, int], tuple[float, float]] = {}  # each screened tile's period and angle

    def square(i: int, j: int) -> np.ndarray:
        y0 = min(i * tile, h - tile) if h >= tile else 0
        x0 = min(j * tile, w - tile) if w >= tile else 0
        return pixels[y0:y0 + tile, x0:x0 + tile]

    for i in range(ny):
        for j in range(nx):
            # a flat part of a photo (a sky, a backdrop) carries the screen but no picture of its
            # own: the tiles are found as tints, and a region of them is a print when a picture
            # modulates its lattice somewhere in it
            r = detect_screen(square(i, j), dpi, max_side=tile, tint=True)
            if r.found and r.period is not None and r.angle is not None:
                grid[i, j] = True
                reports[(i, j)] = r
                lattice[(i, j)] = (r.period, r.angle)

    def modulated(i: int, j: int) -> bool:
        sq = square(i, j)
        y0, x0, n = _centre(sq, tile)
        return _modulated(sq[y0:y0 + n, x0:x0 + n], *lattice[(i, j)])

    parts, _ = label(grid)
    for k, box in enumerate(find_objects(parts), start=1):  # one modulated tile keeps a region
        cells = [(i, j) for i in range(box[0].start, box[0].stop) for j in range(box[1].start, box[1].stop)
                 if parts[i, j] == k]
        if not any(modulated(i, j) for i, j in cells):
            grid[parts == k] = False
    reports = {c: r for c, r in reports.items() if grid[c]}
    best = max(reports.values(), key=lambda r: r.strength, default=ScreenReport(False))
    if not best.found:
        best = detect_screen(pixels, dpi)  # the centre's verdict, for the notes
        best = ScreenReport(False, strength=best.strength) if best.found else best
    return ScreenMap(tile, grid, best, reports)


@dataclass(frozen=True)
class LineScreen:
    """A line screen across a file: one ruling of straight, parallel lines whose width carries
    the tone (a gray print's line screen), found by :func:`detect_line_screen`.

    Attributes:
        period: the ruling's period in pixels, 2.5 to 16.
        angle: the direction of the lines' normal (across the lines), degrees in [0, 180) from
            the x axis toward +y (image rows downward), as :mod:`enhance.train.halftone` draws it.
        lpi: lines per inch, when the DPI was given.
        tiles: how many of the file's tiles carry it.
        of: how many of its tiles hold any detail (the flat paper left out).
    """

    period: float
    angle: float
    lpi: float | None
    tiles: int
    of: int

    def describe(self) -> str:
        """One line for the user."""
        lpi = f", about {self.lpi:.0f} lpi" if self.lpi else ""
        return (f"line screen detected: period {self.period:.2f} px, lines at {(self.angle + 90) % 180:.0f} degrees{lpi} "
                f"(in {self.tiles} of {self.of} tiles)")


#: the share of a file's tiles with detail that must carry one ruling (its period within 3 %
#: and its angle within 2 degrees) for it to be a line screen: a line screen covers every
#: inked part of the print, where an engraving's ruled sky or hatching covers some
LINE_SHARE = 0.75
#: another peak at least this share of the ruling's prominence that is none of its harmonics
#: means a second periodic structure: another ink's screen, cross-hatching
LINE_RIVAL = 0.75
#: a tile is detail (not flat paper) above this standard deviation, in [0, 1] levels
_FLAT = 3.0 / 255.0


def _fold(fy: float, fx: float) -> tuple[float, float]:
    """A frequency (cycles per pixel) folded back into [-0.5, 0.5) on each axis (aliased) and
    into the upper half plane (fy <= 0), where the detectors' search band lies."""
    fy, fx = (fy + 0.5) % 1.0 - 0.5, (fx + 0.5) % 1.0 - 0.5
    return (fy, fx) if fy < 0 or (fy == 0 and fx >= 0) else (-fy, -fx)


def _line_tile(square: np.ndarray, min_period: float, max_period: float) -> tuple[float, float] | None | bool:
    """One tile's vote: ``(fy, fx)`` in cycles per pixel when its spectrum holds a single
    ruling (one strong peak, no orthogonal partner, every other strong peak one of its
    harmonics, aliased ones included); ``False`` when it holds something else that is periodic
    (a dot lattice, a rosette, cross-hatching); ``None`` when it holds no strong peak."""
    n = square.shape[0]
    prominence, logm, cand = _spectrum(square, min_period, max_period)
    order = _strongest(cand)
    if not order.size:
        return None
    c = n // 2
    p1 = float(cand.ravel()[order[0]])
    strong = [divmod(int(i), n) for i in order if float(cand.ravel()[i]) >= LINE_RIVAL * p1]
    # the ruling is the peak whose harmonics explain every strong peak: a thin line's harmonics
    # are strong (at 2-5 px periods they fold back across the Nyquist frequency, and one may
    # outshine the fundamental), and the picture's detail modulates them into sidebands a few
    # bins off; the longest such period is the fundamental
    side = max(3.0, n / 32)
    ruling = None
    for py, px in sorted(strong, key=lambda p: np.hypot(p[0] - c, p[1] - c)):
        fy, fx = py - c, px - c
        harmonics = [_fold(k * fy / n, k * fx / n) for k in range(1, 11)]
        if all(any(np.hypot(oy - c - hy * n, ox - c - hx * n) <= side for hy, hx in harmonics) for oy, ox in strong):
            ruling = (py, px)
            break
    if ruling is None:  # a second periodic structure: another ink's screen, cross-hatching
        return False
    py, px = ruling
    fy, fx = py - c, px - c
    qy, qx = int(round(-fx)) + c, int(round(fy)) + c  # the orthogonal partner, rotated 90 degrees
    if qy > c:
        qy, qx = 2 * c - qy, 2 * c - qx
    if 2 <= qy < n - 2 and 2 <= qx < n - 2 and float(prominence[qy - 2:qy + 3, qx - 2:qx + 3].max()) >= THRESHOLD:
        return False
    # the peak's position to a fraction of a bin (a parabola through the log magnitudes)
    def vertex(a: float, b: float, d: float) -> float:
        den = a - 2 * b + d
        return float(np.clip(0.5 * (a - d) / den, -0.5, 0.5)) if den < 0 else 0.0
    if 1 <= py < n - 1 and 1 <= px < n - 1:
        fy += vertex(logm[py - 1, px], logm[py, px], logm[py + 1, px])
        fx += vertex(logm[py, px - 1], logm[py, px], logm[py, px + 1])
    return fy / n, fx / n


def detect_line_screen(pixels: np.ndarray, dpi: float | None = None, tile: int = 256, most: int = 24,
                       min_period: float = 2.5, max_period: float = 16.0) -> LineScreen | None:
    """Find a line screen across a file: the same single ruling in at least
    :data:`LINE_SHARE` of its tiles that hold detail, and in two at least (at most ``most``
    tiles, spread over the file; a file under two tiles a side is read in the four quarters of
    its centred square of up to 512 px). Dot screens,
    rosettes, cross-hatching and an engraving's hatching, whose angle and period change across
    the picture, are not; given the DPI, neither is a ruling no press prints (:data:`PRINT_LPI`).
    Periods start at 2.5 px, the finest screen the descreener was trained on: pixel art and
    dithered stripes repeat at 2-2.4 px.

    Args:
        pixels: ``(H, W)`` or ``(H, W, C)`` array, any numeric dtype.
        dpi: the scan's resolution.
        tile: the tiles' side in pixels.
        most: the most tiles read.

    Returns:
        A :class:`LineScreen`, or None.
    """
    h, w = pixels.shape[:2]
    scale = _full_scale(pixels.dtype)
    if min(h, w) < tile or (h < 2 * tile and w < 2 * tile):
        # a small file: the four quarters of its centred square, so that one ruling must run
        # across it as on a page (a single square's spectrum takes an icon's edges for one)
        side = min(512, h, w)
        n = (side // 2) - (side // 2) % 16
        if n < 64:
            return None
        y0, x0 = (h - 2 * n) // 2, (w - 2 * n) // 2
        corners = [(y0 + i * n, x0 + j * n) for i in (0, 1) for j in (0, 1)]
    else:
        n = tile
        ny, nx = max(1, h // n), max(1, w // n)
        k = max(1, int(np.ceil(np.sqrt(ny * nx / most))))  # every k-th tile along each axis
        corners = [(min(i * n, h - n), min(j * n, w - n)) for i in range(0, ny, k) for j in range(0, nx, k)]
    votes: list[tuple[float, float]] = []
    detail = 0
    for y0, x0 in corners:
        square = pixels[y0:y0 + n, x0:x0 + n]
        if float(_gray(square[::4, ::4]).std()) / scale < _FLAT:
            continue
        detail += 1
        # the spectrum read from 2 px: a finer ruling's harmonics fold back into the band as
        # peaks of their own, so it must be seen to be refused
        v = _line_tile(square, min(2.0, min_period), max_period)
        if isinstance(v, tuple) and 1.0 / float(np.hypot(*v)) >= min_period:
            votes.append(v)
    if not votes or detail == 0:
        return None
    fy, fx = (float(np.median([v[0] for v in votes])), float(np.median([v[1] for v in votes])))
    f = float(np.hypot(fy, fx))
    angle = float(np.degrees(np.arctan2(fy, fx))) % 180.0

    def agrees(v: tuple[float, float]) -> bool:
        g = float(np.hypot(*v))
        d = abs((float(np.degrees(np.arctan2(v[0], v[1]))) % 180.0) - angle)
        return abs(g - f) <= 0.03 * f and min(d, 180.0 - d) <= 2.0
    agreeing = sum(agrees(v) for v in votes)
    if agreeing < max(2, int(np.ceil(LINE_SHARE * detail))):
        return None
    period = 1.0 / f
    lpi = dpi / period if dpi else None
    if lpi is not None and not PRINT_LPI[0] <= lpi <= PRINT_LPI[1]:
        return None
    return LineScreen(period, angle, lpi, agreeing, detail)
