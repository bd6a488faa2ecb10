"""Upscaling pixels of any layout through a model, tile by tile.

Colour goes through the model; alpha is resampled with bicubic (and clipped), so transparency
is kept; CMYK is upscaled in place (C, M, Y inverted into the model's RGB, K as gray), so the
ink separation and its ICC profile survive.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

from .errors import ModelError
from .image import ImageMeta, from_pil, layout_for_channels, to_pil
from .jpegdamage import wants_repair
from .models.base import Upscaler
from .models.chain import Chain
from .models.classical import resample
from .models.ensemble import Ensemble
from .models.registry import has_variant, load_model
from .tiles import ArraySink, Sink, run_tiled

__all__ = ["upscale", "upscale_pixels", "DEFAULT_TILE", "DEFAULT_OVERLAP"]

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


def upscale(
    image: Image.Image | np.ndarray,
    zoom: int = 2,
    model: str | Upscaler = "default",
    type: str | None = None,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    ensemble: int = 1,
    repair: str = "auto",
) -> Image.Image | np.ndarray:
    """Upscale a PIL image or a NumPy array by ``zoom``.

    Args:
        image: a PIL image (any mode; the ICC profile and DPI in ``image.info`` are carried,
            DPI multiplied by ``zoom``), or an array ``(H, W)`` / ``(H, W, C)`` with C = 1 (gray),
            2 (gray+alpha), 3 (RGB) or 4 (RGBA), uint8, uint16 or float32 in [0, 1].
        zoom: 1 (repair models), 2, 3 or 4.
        model: a registry name or a loaded model.
        type: content type preference when picking a named model.
        tile: tile side in input pixels; overlap: blended overlap.
        device: "cpu" or "cuda" for neural models.
        progress: ``progress(done_tiles, total_tiles)``.
        ensemble: orientations averaged per tile (1, 2, 4 or 8); see
            :class:`~enhance.models.ensemble.Ensemble`.
        repair: JPEG treatment (the model's JPEG variant, or the ``repair`` model first): "auto"
            for a PIL image read from a JPEG file compressed hard enough, enlarged with
            ``default`` (:func:`~enhance.jpegdamage.wants_repair`); "always"; "never".

    Returns:
        The same kind of object: a PIL image, or an array of the input's dtype, of exactly
        ``zoom`` times the input size.

    Example:
        >>> import numpy as np
        >>> upscale(np.zeros((8, 10, 3), np.uint8), 2, model="bicubic").shape
        (16, 20, 3)
    """
    if isinstance(model, str):
        m = load_model(model, zoom, type, device, ensemble=ensemble)
    else:
        m = model if ensemble == 1 else Ensemble(model, ensemble)
    if m.scale != zoom:
        raise ModelError(f"model {m.name!r} is x{m.scale}, but zoom {zoom} was asked for")
    pil = isinstance(image, Image.Image)
    if pil:
        pixels, meta = from_pil(image)
    else:
        pixels = np.asarray(image)
        pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
        meta = ImageMeta(layout=layout_for_channels(pixels.shape[2]))
    name = model if isinstance(model, str) else m.name
    variant = isinstance(model, str) and has_variant(model, zoom, "jpeg")
    if type != "jpeg" and wants_repair(repair, name, zoom, meta.jpeg_quality, type == "print", variant):
        m = (load_model(model, zoom, "jpeg", device, ensemble=ensemble) if isinstance(model, str)
             else Chain(load_model("repair", 1, None, device, ensemble=ensemble), m))
    out = upscale_pixels(pixels, meta.layout, m, tile, overlap, progress=progress)
    assert out is not None
    if pil:
        return to_pil(out, meta.scaled(zoom))
    return out[:, :, 0] if np.ndim(image) == 2 else out

