"""Two models run one after the other on each tile: descreen then enlarge (``--type=print``),
repair then enlarge (the JPEG treatment), or one enlargement after another (``--zoom=8``)."""

from __future__ import annotations

import math

import numpy as np

from .base import Upscaler

__all__ = ["Chain"]


class Chain:
    """``then(first(x))`` as one :class:`~enhance.models.base.Upscaler`.

    ``first``'s output is clipped to [0, 1] before ``then`` sees it. The chain's scale is the
    product of both; its context is ``first``'s plus ``then``'s brought back to the input grid,
    so tiles still agree with the whole image; its input multiple makes ``first``'s output a
    multiple of what ``then`` needs.

    Args:
        first: any model (an x1 descreener or repair model, or an enlargement).
        then: any model.
    """

    def __init__(self, first: Upscaler, then: Upscaler) -> None:
        self.first, self.then = first, then
        self.name = f"{first.name}+{then.name}"
        self.scale = first.scale * then.scale
        self.context = first.context + math.ceil(then.context / first.scale)
        need = then.multiple_of // math.gcd(then.multiple_of, first.scale)
        self.multiple_of = math.lcm(first.multiple_of, need)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h*scale, w*scale, C)`` float32."""
        return self.then(np.clip(self.first(x), 0.0, 1.0))
