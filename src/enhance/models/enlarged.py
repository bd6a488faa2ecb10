"""An x1 model run on the picture enlarged: a halftone screen becomes the size the descreener
handles best.

The descreener was trained on screens of 2.5 to 10 px, and on the training press's prints it
comes closest to the print without its screen when the screen it sees is about 8.5 px: a 300 dpi
scan of a magazine (133-175 lpi, 1.7-2.3 px) gained 0.8-2.8 dB enlarged twice, a 600 dpi scan of
a newspaper (85-110 lpi, 5.5-7 px) 0.2-0.9 dB enlarged 1.25-1.5 times. The picture is enlarged
(Pillow bicubic), the model runs, and its output is reduced back (antialiased bicubic) to the
scan's grid. :func:`enhance.models.tone.at_period` picks the factor.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Upscaler
from .classical import resize

__all__ = ["Enlarged", "QUARTER"]

#: factors are whole quarters: an input a multiple of 4 px enlarges to a whole number of pixels
QUARTER = 4


class Enlarged:
    """``reduce(model(enlarge(x)))`` by ``factor`` with Pillow's bicubic, as one x1 Upscaler.

    Args:
        model: an x1 :class:`~enhance.models.base.Upscaler` (the descreener, its tone kept).
        factor: the enlargement, a whole number of quarters above 1 and at most 2.
    """

    def __init__(self, model: Upscaler, factor: float = 2.0) -> None:
        if model.scale != 1:
            raise ValueError("Enlarged wraps x1 models only")
        quarters = round(factor * QUARTER)
        if abs(quarters - factor * QUARTER) > 1e-9 or not QUARTER < quarters <= 2 * QUARTER:
            raise ValueError(f"the factor must be a whole number of quarters in (1, 2], not {factor}")
        self.model, self.factor = model, quarters / QUARTER
        self.name = model.name
        self.scale = 1
        # a tile's crop starts where the whole picture's enlarged grid has a whole pixel that is
        # also a whole number of the model's multiple (its stride-2 stages in the same phase), so
        # tiles agree with the whole picture; the context is the model's on the enlarged grid,
        # brought back, plus the bicubic kernels' reach (two input pixels enlarging, two reducing)
        self.multiple_of = QUARTER * max(1, model.multiple_of)
        m = self.multiple_of
        self.context = -(-(math.ceil(model.context / self.factor) + 4) // m) * m

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h, w, C)`` float32 (not clipped)."""
        h, w = x.shape[:2]
        bh, bw = round(h * self.factor), round(w * self.factor)
        big = np.clip(resize(x.astype(np.float32, copy=False), bw, bh), 0.0, 1.0)
        m = max(1, self.model.multiple_of)
        ph, pw = (-bh) % m, (-bw) % m  # the model's own multiple, mirrored past the picture
        if ph or pw:
            big = np.pad(big, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
        y = np.asarray(self.model(big), dtype=np.float32)[:bh, :bw]
        return resize(y, w, h)
