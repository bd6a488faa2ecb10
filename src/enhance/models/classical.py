"""Classical resamplers (Pillow's bicubic and Lanczos) as models of the registry.

They work per channel in 32-bit float ("F" images), so 16-bit input keeps its precision.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["ClassicalUpscaler", "resample", "resize"]

_FILTERS = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "bilinear": Image.BILINEAR}


def resize(x: np.ndarray, width: int, height: int, method: str = "bicubic") -> np.ndarray:
    """``(h, w, C)`` float32 to ``(height, width, C)`` with a Pillow filter, per channel (Pillow
    widens the kernel when shrinking: antialiased, as MATLAB's ``imresize`` is)."""
    out = np.empty((height, width, x.shape[2]), dtype=np.float32)
    for i in range(x.shape[2]):
        im = Image.fromarray(np.ascontiguousarray(x[:, :, i], dtype=np.float32))
        out[:, :, i] = np.asarray(im.resize((width, height), _FILTERS[method]))
    return out


def resample(x: np.ndarray, scale: int, method: str = "bicubic") -> np.ndarray:
    """Resize ``(h, w, C)`` float32 by an integer ``scale`` with a Pillow filter, per channel."""
    if scale == 1:
        return x.astype(np.float32, copy=True)
    return resize(x, x.shape[1] * scale, x.shape[0] * scale, method)


class ClassicalUpscaler:
    """Pillow bicubic or Lanczos at an integer scale (see :class:`~enhance.models.base.Upscaler`)."""

    def __init__(self, method: str, scale: int) -> None:
        if method not in _FILTERS:
            raise ValueError(f"unknown resampler {method!r}")
        self.name = method
        self.scale = scale
        self.context = 4  # Lanczos-3 reaches 3 input pixels; one more for safety
        self.multiple_of = 1
        self.method = method

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return resample(x, self.scale, self.method)
