"""A line screen removed by a blur across its lines (``--type=print`` on a line-screened print).

A gray print's line screen is one ruling of straight lines whose width carries the tone: across
the lines the scan holds the screen and the picture, along them only the picture. The descreen
model, which must keep an engraving's hatching, keeps much of a fine line screen (on the held-out
press, 22.1 dB against the print without its screen where an isotropic Gaussian blur makes
27.3). :class:`LineScreenBlur` averages across the lines over exactly one period (a box
:data:`ACROSS` periods wide, its ends weighted for a period that is no whole number of pixels),
whose response is zero at the ruling's frequency and at every harmonic of it, and blurs with a
Gaussian of :data:`ALONG` periods along them, where the picture's detail lies. On the training
press (family A line screens on 80 corpus photos of two seeds) the box made 36.13 / 35.91 dB
against the print without its screen where session 12's Gaussian across (sigma 0.5 periods,
0.25 along) made 35.86 / 35.32; the held-out press was not consulted. A blur keeps the scan's
tone: its mean is the scan's.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import fftconvolve

__all__ = ["LineScreenBlur", "ACROSS", "ALONG"]

#: the box's width across the lines, in screen periods (one period: zero response at the ruling's
#: frequency and its harmonics)
ACROSS = 1.0
#: the Gaussian's sigma along them, in periods
ALONG = 0.35


class LineScreenBlur:
    """An x1 model that removes a line screen of ``period`` px whose lines' normal lies at
    ``angle`` degrees (from the x axis toward +y, as :class:`~enhance.descreen.LineScreen`
    reports it).

    Args:
        period: the ruling's period in pixels (> 1).
        angle: the direction across the lines, degrees.
        across: the box's width across the lines, in periods.
        along: the Gaussian's sigma along them, in periods.
    """

    name = "line-screen blur"
    scale = 1
    multiple_of = 1

    def __init__(self, period: float, angle: float, across: float = ACROSS, along: float = ALONG) -> None:
        if not period > 1.0:
            raise ValueError(f"line screen period {period!r}: must be over 1 px")
        self.period, self.angle = float(period), float(angle)
        width, st = across * self.period, along * self.period
        r = int(math.ceil(max(0.5 * width + 1.0, 3.0 * st))) + 1
        a = math.radians(self.angle)
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
        u = xx * math.cos(a) + yy * math.sin(a)  # across the lines
        v = -xx * math.sin(a) + yy * math.cos(a)  # along them
        # a box of ``width`` px across, each pixel weighted by how much of it lies inside
        k = np.clip(0.5 * width + 0.5 - np.abs(u), 0.0, 1.0) * np.exp(-0.5 * (v / st) ** 2)
        self.kernel = (k / k.sum()).astype(np.float32)
        self.context = r

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h, w, C)`` float32, the edges reflected."""
        r = self.context
        x = np.asarray(x, dtype=np.float32)
        mode = "reflect" if min(x.shape[:2]) > r else "symmetric"
        padded = np.pad(x, ((r, r), (r, r), (0, 0)), mode=mode)
        out = np.empty(x.shape, np.float32)
        for c in range(x.shape[2]):
            out[..., c] = fftconvolve(padded[..., c], self.kernel, mode="valid")
        return out
