"""Pixels to pixels through one model and the tiler, for any layout.

Which model a file goes through is :mod:`enhance.treatment`'s decision; this module only runs it.

Colour goes through the model; alpha is resampled with bicubic (and clipped), so transparency
is kept; CMYK is upscaled in place (C, M, Y inverted into the model's RGB, K as gray), so the
ink separation and its ICC profile survive.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .models.base import Upscaler
from .models.classical import resample
from .tiles import ArraySink, Sink, run_tiled

__all__ = ["upscale_pixels", "DEFAULT_TILE", "DEFAULT_OVERLAP"]

#: Default tile side (input pixels) and overlap, Neural Enhance's --rendering-tile/-overlap.
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 16


def _tile_fn(model: Upscaler, layout: str) -> Callable[[np.ndarray], np.ndarray]:
    s = model.scale

    def alpha(a: np.ndarray) -> np.ndarray:
        return np.clip(resample(a, s, "bicubic"), 0.0, 1.0)

    def cmyk(x: np.ndarray) -> np.ndarray:  # C, M, Y inverted into the model's RGB, K as gray
        return 1.0 - np.concatenate([model(1.0 - x[:, :, :3]), model(1.0 - x[:, :, 3:4])], axis=2)

    if layout == "L":
        return model
    if layout == "RGB":
        return model
    if layout == "LA":
        return lambda x: np.concatenate([model(x[:, :, :1]), alpha(x[:, :, 1:])], axis=2)
    if layout == "RGBA":
        return lambda x: np.concatenate([model(x[:, :, :3]), alpha(x[:, :, 3:])], axis=2)
    if layout == "CMYK":
        return cmyk
    if layout == "CMYKA":
        return lambda x: np.concatenate([cmyk(x[:, :, :4]), alpha(x[:, :, 4:])], axis=2)
    raise ValueError(f"unknown layout {layout!r}")


def upscale_pixels(
    pixels: np.ndarray,
    layout: str,
    model: Upscaler,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    sink: Sink | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray | None:
    """Upscale an array through ``model`` in overlapping, blended tiles.

    Args:
        pixels: ``(H, W, C)`` uint8, uint16 or float32 (in [0, 1]), laid out as ``layout``.
        layout: "L", "LA", "RGB", "RGBA", "CMYK" or "CMYKA".
        model: a loaded model; the zoom is ``model.scale``.
        tile: tile side in input pixels.
        overlap: blended overlap between tiles, in input pixels.
        sink: where finished rows go; default an in-memory array that is returned.
        progress: ``progress(done_tiles, total_tiles)``.

    Returns:
        ``(H*s, W*s, C)`` of the input dtype, or None when a ``sink`` was given.
    """
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    dtype = pixels.dtype
    if dtype in (np.uint8, np.uint16):
        x = pixels  # converted to float tile by tile
    elif dtype in (np.float32, np.float64):
        x = pixels.astype(np.float32)
        dtype = np.dtype(np.float32)
    else:
        raise ValueError(f"unsupported pixel dtype {dtype}")
    s = model.scale
    h, w, c = x.shape
    own = sink is None
    if sink is None:
        sink = ArraySink((h * s, w * s, c), dtype)
    run_tiled(x, _tile_fn(model, layout), s, sink, dtype, tile=tile, overlap=overlap,
              context=model.context, multiple_of=model.multiple_of, progress=progress)
    return sink.array if own else None  # type: ignore[attr-defined]
