"""Tone kept through an x1 model: its output's local mean replaced by its input's.

The descreener was trained to map a scan to the pre-press original of its simulator's ideal
inks, so on another press it shifts tone and colour (issue 19). What a publisher wants from a
descreened scan is the print seen without its screen: the same inks, paper and dot gain laid
down as continuous coverage. That is the scan's own local mean over a few screen periods, so
:class:`ToneKept` keeps the model's fine detail (the screen removed, edges rebuilt) and puts
back the scan's low-pass: ``out = m(x) - G(m(x)) + G(x)``, with ``G`` a Gaussian of
:data:`PERIODS` screen periods (:func:`at_period`, when the detector has measured the screen),
else of :data:`SIGMA` pixels. Either passes under 0.1 % of the screen's fundamental (at
:data:`SIGMA`, that of the coarsest screen the descreener handles, 10 px), so the dots do not
come back; the finer the screen, the more of the scan's own tone and colour the output keeps.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Upscaler
from .chain import Chain
from .ensemble import Ensemble
from .enlarged import QUARTER, Enlarged

__all__ = ["ToneKept", "SIGMA", "PERIODS", "TARGET_PERIOD", "at_period", "enlargement", "is_bilevel", "sigma_for"]

#: the low-pass that defines "tone", in screen periods: a Gaussian of 0.6 periods leaves
#: exp(-2 pi^2 0.36) = 8e-4 of the screen's fundamental and less of its harmonics
PERIODS = 0.6
#: the low-pass when the screen's period is not known: 0.6 of the coarsest trained period (10 px),
#: which leaves 8e-4 of that screen's fundamental and less of any finer one
SIGMA = 6.0
#: a screen is descreened on the scan enlarged until it is about this many px
#: (:class:`~enhance.models.enlarged.Enlarged`, at most twice, in quarters). On the training
#: press's prints of corpus photos: screens of 1.7-5 px gained 0.4-2.8 dB at twice their size
#: over the scan's own size, and 5-7 px ones 0.2-1.3 dB enlarged to 8-9 px; 2 and 3 px screens
#: lost 0.1-1.2 dB enlarged 2.5-3 times, and past 10 px the descreener fails (10-21 dB lost)
TARGET_PERIOD = 8.5


def sigma_for(period: float | None) -> float:
    """The tone low-pass's sigma in pixels for a screen of ``period`` px: :data:`PERIODS` of it,
    at most :data:`SIGMA`; :data:`SIGMA` when no period is known (``None``). The command
    (:func:`at_period`) and the descreener's training both take it from here."""
    return SIGMA if period is None else min(SIGMA, PERIODS * float(period))


def low_pass(x: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    """``x`` ``(h, w, C)`` float blurred over its two spatial axes (reflecting at the edges)."""
    from scipy.ndimage import gaussian_filter  # here: importing SciPy costs a plain run 0.4 s

    return gaussian_filter(x, (sigma, sigma, 0), mode="reflect", truncate=3.0)


class ToneKept:
    """An x1 model whose output keeps its input's tone (its low-pass over ``sigma`` pixels).

    Args:
        model: an x1 :class:`~enhance.models.base.Upscaler` (the descreener).
        sigma: the Gaussian's sigma in pixels.
    """

    def __init__(self, model: Upscaler, sigma: float = SIGMA) -> None:
        if model.scale != 1:
            raise ValueError("ToneKept wraps x1 models only")
        self.model, self.sigma = model, float(sigma)
        self.name = model.name
        self.scale = 1
        # a whole number of the model's input multiple: a tile's crop then starts on the same
        # phase of its stride-2 stages as the whole picture does
        m = max(1, model.multiple_of)
        self.context = -(-(model.context + math.ceil(3 * self.sigma)) // m) * m
        self.multiple_of = model.multiple_of

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h, w, C)`` float32 (not clipped)."""
        y = np.asarray(self.model(x), dtype=np.float32)
        return (y - low_pass(y, self.sigma) + low_pass(x.astype(np.float32), self.sigma)).astype(np.float32)


def is_bilevel(pixels: np.ndarray) -> bool:
    """Whether ``pixels`` (any shape and dtype) hold two values at most: a 1-bit scan, however
    it was saved, whose tone :func:`at_period` leaves to the descreener."""
    lo, hi = pixels.min(), pixels.max()
    rows = max(1, 2**22 // max(1, pixels[:1].size))  # a few MB of booleans at a time, even on a big page
    return all(bool(np.all((band == lo) | (band == hi))) for band in (pixels[i:i + rows]
                                                                       for i in range(0, len(pixels), rows)))


def enlargement(period: float) -> float:
    """The factor :func:`at_period` enlarges a scan with a screen of ``period`` px by: a whole
    number of quarters bringing the screen nearest :data:`TARGET_PERIOD`, at most 2, 1 for a
    screen that is that coarse already."""
    return min(2.0, max(1.0, round(QUARTER * TARGET_PERIOD / period) / QUARTER))


def at_period(model: Upscaler, period: float | None, keep_tone: bool = True) -> Upscaler:
    """``model`` with each :class:`ToneKept` in it (alone, first in a
    :class:`~enhance.models.chain.Chain`, inside an :class:`~enhance.models.ensemble.Ensemble`)
    keeping tone over :data:`PERIODS` of a screen of ``period`` px, at most :data:`SIGMA`, and
    run on the scan enlarged by :func:`enlargement` (:class:`~enhance.models.enlarged.Enlarged`,
    the tone then over the enlarged period); a new object sharing the networks, so one loaded
    treatment serves files of any screen. ``None`` (no period measured) returns ``model`` as it
    is.

    ``keep_tone=False`` runs the descreener on its own tone instead, for a 1-bit scan: its local
    mean is where the scanner's threshold fell, not the print's tone (on 1-bit prints of 85-120
    lpi at 400-600 dpi thresholded at 0.4-0.6, of both print models, the descreener's own tone
    was nearer the print in 10 of 11 settings, by up to 0.4 dB; BENCHMARKS.md, session 24)."""
    if period is None:
        return model
    if isinstance(model, Enlarged):
        return at_period(model.model, period, keep_tone)
    if isinstance(model, ToneKept):
        factor = enlargement(period)
        inner = ToneKept(model.model, sigma_for(factor * period)) if keep_tone else model.model
        return Enlarged(inner, factor) if factor > 1.0 else inner
    if isinstance(model, Chain):
        return Chain(at_period(model.first, period, keep_tone), model.then)
    if isinstance(model, Ensemble):
        return Ensemble(at_period(model.model, period, keep_tone), model.passes)
    return model
