"""Two models run one after the other on each tile: descreen, then upscale (``--type=print``)."""

from __future__ import annotations

import math

import numpy as np

from .base import Upscaler

__all__ = ["Chain"]


class Chain:
    """``then(first(x))`` as one :class:`~enhance.models.base.Upscaler`.

    ``first`` is an x1 model (the descreener); its output is clipped to [0, 1] before ``then``
    sees it. The chain's context is the sum of both contexts, so tiles still agree with the
    whole image.

    Args:
        first: an x1 model.
        then: any model; the chain's scale is ``then.scale``.
    """

    def __init__(self, first: Upscaler, then: Upscaler) -> None:
        if first.scale != 1:
            raise ValueError("the first model of a chain must be x1")
        self.first, self.then = first, then
        self.name = f"{first.name}+{then.name}"
        self.scale = then.scale
        self.context = first.context + then.context
        self.multiple_of = math.lcm(first.multiple_of, then.multiple_of)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h*scale, w*scale, C)`` float32."""
        return self.then(np.clip(self.first(x), 0.0, 1.0))
