"""An x1 model run at twice the picture's size: a halftone screen finer than the descreener
learned becomes one it did.

The descreener was trained on screens of 2.5 to 10 px. A 300 dpi scan of a magazine or a book
(133-175 lpi) carries one of 1.7 to 2.3 px, finer than that; enlarged twice (bicubic) the same
screen is 3.4 to 4.6 px, in the middle of what it learned, and the result is reduced back
(antialiased bicubic) to the scan's grid. Screens the descreener did learn come out closer to
the print this way too, up to 5 px. :func:`enhance.models.tone.at_period` decides when.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Upscaler
from .classical import reduce, resample

__all__ = ["TwiceSize"]


class TwiceSize:
    """``reduce(model(enlarge(x)))``, both by 2 with Pillow's bicubic, as one x1 Upscaler.

    Args:
        model: an x1 :class:`~enhance.models.base.Upscaler` (the descreener, its tone kept).
    """

    def __init__(self, model: Upscaler) -> None:
        if model.scale != 1:
            raise ValueError("TwiceSize wraps x1 models only")
        self.model = model
        self.name = model.name
        self.scale = 1
        # the model's context on the doubled grid, halved, plus the bicubic kernels' reach (two
        # input pixels enlarging, two reducing by 2), kept a whole number of the model's multiple
        m = max(1, model.multiple_of)
        self.context = -(-(math.ceil(model.context / 2) + 4) // m) * m
        self.multiple_of = model.multiple_of

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h, w, C)`` float32 (not clipped)."""
        big = np.clip(resample(x.astype(np.float32, copy=False), 2), 0.0, 1.0)
        return reduce(np.asarray(self.model(big), dtype=np.float32), 2)
