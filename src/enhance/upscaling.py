"""Pixels to pixels through one model and the tiler, for any layout.

Which model a file goes through is :mod:`enhance.treatment`'s decision; this module only runs it.

Colour goes through the model; alpha is resampled with bicubic (and clipped), so transparency
is kept; CMYK is upscaled in place (C, M, Y inverted into the model's RGB, K as gray), so the
ink separation and its ICC profile survive.
"""

from __future__ import annotations

import math

from typing import Callable

import numpy as np

from .errors import UsageError
from .models.base import Upscaler
from .models.classical import resample
from .tiles import ArraySink, Sink, run_tiled

__all__ = ["upscale_pixels", "resize_to", "check_pixels", "check_tiles", "Regional", "streamable", "DEFAULT_TILE", "DEFAULT_OVERLAP", "LAYOUT_CHANNELS"]

#: channels of each layout
LAYOUT_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "CMYKA": 5}

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


class Regional:
    """Two models over one picture, blended by a mask: the screened regions of a page through
    ``inside`` (the descreening chain), the rest (type, line art, paper) through ``outside``,
    feathered at the edges. :func:`upscale_pixels` runs both and blends at the output's size.

    Args:
        inside, outside: models of one scale.
        mask: ``(H, W)`` float32 in [0, 1] on the input's grid, 1 where ``inside`` applies.
        regions: the regions ``inside`` was chosen for, ``(top, left, height, width)`` in input
            pixels (what the report draws).
    """

    def __init__(self, inside: Upscaler, outside: Upscaler, mask: np.ndarray,
                 regions: list[tuple[int, int, int, int]] | None = None) -> None:
        if inside.scale != outside.scale:
            raise ValueError("the two models of a Regional must have one scale")
        self.inside, self.outside, self.mask = inside, outside, mask
        self.regions = list(regions or [])
        self.name = f"{inside.name} in screened regions, {outside.name} elsewhere"
        self.scale = outside.scale
        self.context = max(inside.context, outside.context)
        self.multiple_of = max(inside.multiple_of, outside.multiple_of)

    def __call__(self, x: np.ndarray) -> np.ndarray:  # a whole picture only: the tiler cannot place a tile
        raise TypeError("a Regional runs through upscale_pixels, not tile by tile")


def streamable(model: Upscaler) -> tuple[Upscaler, str]:
    """``model`` as it can run into a sink (streamed to disk), and a note when that changed it: a
    :class:`Regional` blends two whole outputs in memory, so a streamed one is descreened whole."""
    if isinstance(model, Regional):
        return model.inside, "too large to descreen by regions: the whole file is descreened"
    return model, ""


def _regional(pixels: np.ndarray, layout: str, model: Regional, tile: int, overlap: int,
              progress: Callable[[int, int], None] | None) -> np.ndarray:
    a = upscale_pixels(pixels, layout, model.inside, tile, overlap, progress=progress)
    b = upscale_pixels(pixels, layout, model.outside, tile, overlap, progress=progress)
    assert a is not None and b is not None
    s = model.scale
    m = model.mask.repeat(s, axis=0).repeat(s, axis=1)[:, :, None]
    out = a.astype(np.float32) * m + b.astype(np.float32) * (1.0 - m)
    if a.dtype.kind == "f":
        return out.astype(a.dtype)
    return np.clip(np.rint(out), 0, np.iinfo(a.dtype).max).astype(a.dtype)


def check_pixels(pixels: object, layout: str | None = None, name: str = "pixels") -> np.ndarray:
    """``pixels`` as an ``(H, W, C)`` array, or a :class:`~enhance.errors.UsageError` naming
    ``name``: not an array of 2 or 3 dimensions, empty, of a type other than uint8, uint16 or
    float (in [0, 1], finite), or with a channel count that ``layout`` does not have."""
    if not isinstance(pixels, np.ndarray):
        raise UsageError(f"{name} must be a NumPy array (H, W[, C]), not {type(pixels).__name__}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3:
        raise UsageError(f"{name} must be (H, W) or (H, W, C), not of shape {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0 or pixels.shape[2] == 0:
        raise UsageError(f"{name} is empty (shape {pixels.shape})")
    if pixels.dtype not in (np.uint8, np.uint16, np.float32, np.float64):
        raise UsageError(f"{name} must be uint8, uint16 or float in [0, 1], not {pixels.dtype}")
    if pixels.dtype.kind == "f":
        lo, hi = float(pixels.min()), float(pixels.max())  # NaN or an infinity shows in one of them
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise UsageError(f"{name} holds NaN or infinite values")
        if lo < -0.01 or hi > 1.01:  # 0-255 floats would come out white: say so rather than clip
            scale = " (0-255 values? divide by 255)" if hi <= 255.5 and lo >= -0.5 else ""
            raise UsageError(f"{name} holds floats from {lo:g} to {hi:g}; float pixels are taken in [0, 1]{scale}")
    if layout is not None:
        if layout not in LAYOUT_CHANNELS:
            raise UsageError(f"layout {layout!r} is not one of {', '.join(LAYOUT_CHANNELS)}")
        if pixels.shape[2] != LAYOUT_CHANNELS[layout]:
            raise UsageError(f"{name} has {pixels.shape[2]} channels, layout {layout} has {LAYOUT_CHANNELS[layout]}")
    return pixels


def check_tiles(tile: int, overlap: int) -> None:
    """Refuse a tile side and overlap (input pixels) the tiler cannot use well.

    Raises:
        UsageError: ``tile`` under 8, ``overlap`` under 0, or an overlap of half the tile or
            more (each tile would advance by less than half its side: 16 and 16 cut a 50 x 40
            picture into 800 tiles).
    """
    if not isinstance(tile, int) or isinstance(tile, bool) or tile < 8:
        raise UsageError(f"tile must be a whole number of at least 8 pixels, not {tile!r}")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
        raise UsageError(f"overlap must be a whole number of at least 0 pixels, not {overlap!r}")
    if 2 * overlap >= tile:
        raise UsageError(f"overlap {overlap} must be under half the tile side ({tile}): give a larger tile "
                         "or a smaller overlap")


def _check_tiling(model: Upscaler, tile: int, overlap: int) -> None:
    if not callable(model) or not all(hasattr(model, a) for a in ("scale", "context", "multiple_of")):
        raise UsageError(f"model must be a loaded model (load_model), not {type(model).__name__}")
    check_tiles(tile, overlap)


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
        ``(H*s, W*s, C)`` of the input dtype (float64 input gives float32), or None when a
        ``sink`` was given.

    Raises:
        UsageError: pixels, layout, model, tile or overlap that cannot be used (naming which).
    """
    pixels = check_pixels(pixels, layout)
    if isinstance(model, Regional):
        if sink is not None:
            raise UsageError("a Regional model is blended in memory: no sink")
        _check_tiling(model.outside, tile, overlap)
        return _regional(pixels, layout, model, tile, overlap, progress)
    _check_tiling(model, tile, overlap)
    dtype = pixels.dtype
    if dtype in (np.uint8, np.uint16):
        x = pixels  # converted to float tile by tile
    else:
        x = pixels.astype(np.float32)
        dtype = np.dtype(np.float32)
    s = model.scale
    h, w, c = x.shape
    own = sink is None
    if sink is None:
        sink = ArraySink((h * s, w * s, c), dtype)
    run_tiled(x, _tile_fn(model, layout), s, sink, dtype, tile=tile, overlap=overlap,
              context=model.context, multiple_of=model.multiple_of, progress=progress)
    return sink.array if own else None  # type: ignore[attr-defined]


def resize_to(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """``pixels`` ``(H, W, C)`` (uint8, uint16 or float32) resampled to ``(height, width, C)`` with
    Lanczos-3, every channel alike (alpha and inks too): downwards by libvips (antialiased, as web
    pipelines resize), upwards by Pillow's Lanczos (libvips enlarges through an affine
    interpolator that is 2-6 dB worse against the bench's originals)."""
    h, w = pixels.shape[:2]
    if (h, w) == (height, width):
        return pixels
    if height <= h and width <= w:
        return _vips_lanczos(pixels, height, width)
    from PIL import Image

    out = np.empty((height, width, pixels.shape[2]), np.float32)
    for c in range(pixels.shape[2]):
        band = Image.fromarray(np.ascontiguousarray(pixels[:, :, c], dtype=np.float32), mode="F")
        out[:, :, c] = np.asarray(band.resize((width, height), Image.Resampling.LANCZOS))
    if pixels.dtype.kind == "f":
        return np.clip(out, 0.0, 1.0).astype(pixels.dtype)
    top = float(np.iinfo(pixels.dtype).max)
    return np.clip(np.rint(out), 0, top).astype(pixels.dtype)


def _vips_lanczos(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    import pyvips

    h, w = pixels.shape[:2]
    im = pyvips.Image.new_from_array(np.ascontiguousarray(pixels))
    out = im.resize(width / w, vscale=height / h, kernel="lanczos3")
    a = np.ndarray(buffer=out.write_to_memory(), dtype=pixels.dtype, shape=(out.height, out.width, out.bands))
    a = a[:height, :width]
    if a.shape[:2] != (height, width):  # vips rounded a side down: repeat its last row or column
        a = np.pad(a, ((0, height - a.shape[0]), (0, width - a.shape[1]), (0, 0)), mode="edge")
    if pixels.dtype.kind == "f":
        a = np.clip(a, 0.0, 1.0)
    return np.ascontiguousarray(a, dtype=pixels.dtype)
