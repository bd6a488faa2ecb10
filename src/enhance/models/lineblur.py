"""A line screen removed by a blur across its lines (``--type=print`` on a line-screened print).

A gray print's line screen is one ruling of straight lines whose width carries the tone: across
the lines the scan holds the screen and the picture, along them only the picture. The descreen
model, which must keep an engraving's hatching, keeps much of a fine line screen (on the held-out
press, 22.1 dB against the print without its screen where an isotropic Gaussian blur makes
27.3). :class:`LineScreenBlur` blurs with an oriented Gaussian instead: :data:`ACROSS` periods
across the lines, which leaves exp(-2 pi^2 ACROSS^2) = 0.7 % of the screen's fundamental, and
:data:`ALONG` periods along them, where the picture's detail lies. Both were chosen on the
training press (family A line screens on 16 corpus photos, 37.80 dB against the best isotropic
Gaussian's 37.58), not on the held-out one. A blur keeps the scan's tone: its mean is the scan's.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import fftconvolve

__all__ = ["LineScreenBlur", "ACROSS", "ALONG"]

#: the Gaussian's sigma across the lines, in screen periods
ACROSS = 0.5
#: and along them
ALONG = 0.25


class LineScreenBlur:
    """An x1 model that removes a line screen of ``period`` px whose lines' normal lies at
    ``angle`` degrees (from the x axis toward +y, as :class:`~enhance.descreen.LineScreen`
    reports it).

    Args:
        period: the ruling's period in pixels (> 1).
        angle: the direction across the lines, degrees.
        across, along: the Gaussian's sigmas across and along the lines, in periods.
    """

    name = "line-screen blur"
    scale = 1
    multiple_of = 1

    def __init__(self, period: float, angle: float, across: float = ACROSS, along: float = ALONG) -> None:
        if not period > 1.0:
            raise ValueError(f"line screen period {period!r}: must be over 1 px")
        self.period, self.angle = float(period), float(angle)
        sn, st = across * self.period, along * self.period
        r = int(math.ceil(3.0 * max(sn, st))) + 1
        a = math.radians(self.angle)
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
        u = xx * math.cos(a) + yy * math.sin(a)  # across the lines
        v = -xx * math.sin(a) + yy * math.cos(a)  # along them
        k = np.exp(-0.5 * (u / sn) ** 2 - 0.5 * (v / st) ** 2)
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
