"""Tiling: overlapping tiles blend into the same picture as a whole-image pass, in bounded memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from enhance.models.classical import ClassicalUpscaler
from enhance.upscaling import upscale_pixels
from enhance.image import ImageMeta, TiffSink
from enhance.tiles import ArraySink, run_tiled, tile_starts

from .conftest import smooth_rgb


@pytest.mark.parametrize("length,tile,overlap", [(100, 32, 8), (33, 32, 8), (10, 32, 4), (257, 64, 16)])
def test_tile_starts_cover(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    t = min(tile, length)
    covered = np.zeros(length, bool)
    for s in starts:
        covered[s:s + t] = True
    assert covered.all() and starts[0] == 0 and starts[-1] + t == length
    for a, b in zip(starts, starts[1:]):
        assert a + t - b >= min(overlap, t - 1)


@pytest.mark.parametrize("method", ["bicubic", "lanczos"])
@pytest.mark.parametrize("scale", [2, 3])
def test_tiled_equals_whole_classical(method: str, scale: int) -> None:
    img = smooth_rgb(61, 75)
    m = ClassicalUpscaler(method, scale)
    whole = upscale_pixels(img, "RGB", m, tile=1000, overlap=0)
    tiled = upscale_pixels(img, "RGB", m, tile=20, overlap=6)
    assert whole.shape == tiled.shape == (61 * scale, 75 * scale, 3)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_tiled_equals_whole_neural() -> None:
    import torch

    from enhance.models.generator import Generator, GeneratorConfig
    from enhance.models.torch_runtime import NeuralUpscaler

    torch.manual_seed(0)
    g = Generator(GeneratorConfig(scale=2, blocks=2, filters=8))
    m = NeuralUpscaler(g, "test", precision="fp32")
    img = smooth_rgb(50, 46)
    whole = upscale_pixels(img, "RGB", m, tile=1000, overlap=0)
    tiled = upscale_pixels(img, "RGB", m, tile=24, overlap=8)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_no_context_still_blends_without_seams() -> None:
    """Even a model read without context blends: the seam error stays small."""
    img = smooth_rgb(64, 64).astype(np.float32) / 255.0
    m = ClassicalUpscaler("bicubic", 2)
    whole = ArraySink((128, 128, 3), np.float32)
    run_tiled(img, m, 2, whole, np.float32, tile=1000, overlap=0, context=0)
    tiled = ArraySink((128, 128, 3), np.float32)
    run_tiled(img, m, 2, tiled, np.float32, tile=24, overlap=8, context=0)
    assert np.abs(whole.array - tiled.array).max() < 0.06


def test_tiff_sink_streams_same_pixels(tmp_path: Path) -> None:
    img = smooth_rgb(40, 52)
    m = ClassicalUpscaler("bicubic", 2)
    ref = upscale_pixels(img, "RGB", m, tile=16, overlap=4)
    path = tmp_path / "out.tif"
    sink = TiffSink(path, (80, 104, 3), np.uint8, ImageMeta(layout="RGB"))
    upscale_pixels(img, "RGB", m, tile=16, overlap=4, sink=sink)
    sink.close()
    assert np.array_equal(tifffile.imread(path), ref)


def test_progress_reports_every_tile() -> None:
    seen: list[tuple[int, int]] = []
    upscale_pixels(smooth_rgb(40, 40), "RGB", ClassicalUpscaler("bicubic", 2), tile=16, overlap=4,
                   progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == len(seen) == 9
