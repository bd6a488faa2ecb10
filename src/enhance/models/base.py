"""What every model offers the pipeline: a scale, a receptive field, and a per-tile call."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Upscaler"]


@runtime_checkable
class Upscaler(Protocol):
    """A loaded model, ready to upscale tiles.

    Attributes:
        name: registry name ("bicubic", "default", ...).
        scale: the zoom it produces (1 for repair models).
        context: input pixels per side that each output pixel may depend on (the tiler reads
            this much extra around every tile so that tiles agree with the whole image).
        multiple_of: input sides must be multiples of this (the tiler pads).
    """

    name: str
    scale: int
    context: int
    multiple_of: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Upscale ``x`` ``(h, w, C)`` float32 in [0, 1], C = 1 (gray) or 3 (RGB), to
        ``(h*scale, w*scale, C)`` float32 (not clipped)."""
        ...
