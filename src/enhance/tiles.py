"""Overlapping tiles with weighted blending, streamed row band by row band into a sink.

An image of any size is cut into tiles of ``tile`` input pixels that overlap their neighbours
by ``overlap`` pixels. Each tile is read with ``context`` extra pixels on every side (the
model's receptive field; cropped off again after the model), and the overlapping parts of
neighbouring tiles are blended with linear ramps, so that no seam shows. Only one band of
tile rows is held in memory at a time: finished output rows go to a :class:`Sink` (a NumPy
array, or :class:`enhance.image.TiffSink`, a TIFF file on disk for outputs too large to hold), which bounds
memory by the tile size and the image width, not the image area.
"""

from __future__ import annotations

import math
from typing import Callable, Protocol

import numpy as np

__all__ = ["Sink", "ArraySink", "tile_starts", "run_tiled", "quantize"]

#: ``fn(tile) -> upscaled tile``: ``(h, w, C)`` float32 -> ``(h*s, w*s, C)`` float32.
TileFn = Callable[[np.ndarray], np.ndarray]


class Sink(Protocol):
    """Receives finished output rows, top to bottom."""

    def write(self, y0: int, rows: np.ndarray) -> None:
        """Store ``rows`` (``(n, W, C)``, the output dtype) at output rows ``y0 .. y0+n``."""


def quantize(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float in [0, 1] -> uint8/uint16 (rounded, clipped), or float32 unchanged but clipped."""
    dt = np.dtype(dtype)
    if dt == np.uint8:
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if dt == np.uint16:
        return np.clip(np.rint(x * 65535.0), 0, 65535).astype(np.uint16)
    return np.clip(x, 0.0, 1.0).astype(dt)


class ArraySink:
    """Collects the output in an in-memory array of the output dtype."""

    def __init__(self, shape: tuple[int, int, int], dtype: np.dtype) -> None:
        self.array = np.zeros(shape, dtype=dtype)

    def write(self, y0: int, rows: np.ndarray) -> None:
        self.array[y0:y0 + rows.shape[0]] = rows


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``length`` with at least ``overlap``.

    The last tile ends exactly at ``length``; ``tile >= length`` gives one tile.
    """
    if tile >= length:
        return [0]
    step = max(1, tile - overlap)
    n = math.ceil((length - tile) / step) + 1
    starts = [min(i * step, length - tile) for i in range(n)]
    return sorted(set(starts))


def _to_float(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a.astype(np.float32) * np.float32(1.0 / 255.0)
    if a.dtype == np.uint16:
        return a.astype(np.float32) * np.float32(1.0 / 65535.0)
    return a.astype(np.float32, copy=False)


def _ramp(n: int, start_ramp: int, end_ramp: int) -> np.ndarray:
    """Weights along one tile side: rising over ``start_ramp``, flat, falling over ``end_ramp``."""
    w = np.ones(n, dtype=np.float32)
    if start_ramp > 0:
        w[:start_ramp] = (np.arange(start_ramp, dtype=np.float32) + 0.5) / start_ramp
    if end_ramp > 0:
        w[n - end_ramp:] = np.minimum(w[n - end_ramp:], (np.arange(end_ramp, 0, -1, dtype=np.float32) - 0.5) / end_ramp)
    return w


def run_tiled(
    image: np.ndarray,
    fn: TileFn,
    scale: int,
    sink: Sink,
    out_dtype: np.dtype,
    tile: int = 512,
    overlap: int = 16,
    context: int = 8,
    multiple_of: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Upscale ``image`` tile by tile into ``sink``.

    Args:
        image: ``(H, W, C)`` float32 in [0, 1], or uint8/uint16 (converted tile by tile, so
            the whole image never exists in float).
        fn: the per-tile model call, ``(h, w, C)`` -> ``(h*scale, w*scale, C)``.
        scale: the zoom (1-4).
        sink: receives finished output rows in ``out_dtype``.
        out_dtype: uint8, uint16 or float32.
        tile: tile side in input pixels (Neural Enhance's ``--rendering-tile``).
        overlap: pixels shared by neighbouring tiles and blended (``--rendering-overlap``).
        context: extra input pixels read around each tile and cropped after the model.
        multiple_of: tile inputs are padded (mirrored: a halftone's lattice goes on, where replicated
            edge pixels would draw stripes the descreener leaves) to a multiple of this.
        progress: called as ``progress(done_tiles, total_tiles)``.
    """
    h, w, c = image.shape
    tile = max(tile, overlap + 1, 1)
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    th, tw = min(tile, h), min(tile, w)
    total, done = len(ys) * len(xs), 0
    s = scale
    acc_y0 = 0  # first output row held in the accumulator
    acc = np.zeros((0, w * s, c), dtype=np.float32)
    wacc = np.zeros((0, w * s, 1), dtype=np.float32)
    for iy, y0 in enumerate(ys):
        y1 = y0 + th
        # grow the accumulator down to this tile row's bottom
        need = y1 * s - acc_y0
        if need > acc.shape[0]:
            grow = need - acc.shape[0]
            acc = np.concatenate([acc, np.zeros((grow, w * s, c), np.float32)])
            wacc = np.concatenate([wacc, np.zeros((grow, w * s, 1), np.float32)])
        top_ramp = (ys[iy - 1] + th - y0) * s if iy > 0 else 0
        bot_ramp = (y1 - ys[iy + 1]) * s if iy + 1 < len(ys) else 0
        wy = _ramp(th * s, top_ramp, bot_ramp)
        for ix, x0 in enumerate(xs):
            x1 = x0 + tw
            cy0, cy1 = max(0, y0 - context), min(h, y1 + context)
            cx0, cx1 = max(0, x0 - context), min(w, x1 + context)
            inp = _to_float(image[cy0:cy1, cx0:cx1])
            ph = (-inp.shape[0]) % multiple_of
            pw = (-inp.shape[1]) % multiple_of
            if ph or pw:
                inp = np.pad(inp, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
            out = fn(np.ascontiguousarray(inp))
            oy, ox = (y0 - cy0) * s, (x0 - cx0) * s
            out = out[oy:oy + th * s, ox:ox + tw * s]
            left_ramp = (xs[ix - 1] + tw - x0) * s if ix > 0 else 0
            right_ramp = (x1 - xs[ix + 1]) * s if ix + 1 < len(xs) else 0
            wgt = wy[:, None] * _ramp(tw * s, left_ramp, right_ramp)[None, :]
            ry = y0 * s - acc_y0
            acc[ry:ry + th * s, x0 * s:x1 * s] += out * wgt[:, :, None]
            wacc[ry:ry + th * s, x0 * s:x1 * s, 0] += wgt
            done += 1
            if progress is not None:
                progress(done, total)
        # rows above the next tile row's start are final
        final_end = ys[iy + 1] * s if iy + 1 < len(ys) else h * s
        n_final = final_end - acc_y0
        if n_final > 0:
            rows = acc[:n_final] / np.maximum(wacc[:n_final], 1e-8)
            sink.write(acc_y0, quantize(rows, out_dtype))
            acc, wacc = acc[n_final:], wacc[n_final:]
            acc_y0 = final_end
