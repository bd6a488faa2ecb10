"""JPEG damage: the quality read from a file's quantization tables (the routing it drives is test_treatment's)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.image import open_image
from enhance.jpegdamage import estimate_quality

from .conftest import smooth_rgb


def _jpeg(path: Path, quality: int, h: int = 24, w: int = 32) -> Path:
    rng = np.random.default_rng(quality)
    a = np.clip(smooth_rgb(h, w).astype(np.int16) + rng.integers(-40, 40, (h, w, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(a).save(path, quality=quality)
    return path


@pytest.mark.parametrize("quality", [5, 10, 25, 50, 70, 71, 85, 95])
def test_quality_is_read_back_from_the_tables(quality: int) -> None:
    buf = io.BytesIO()
    Image.fromarray(smooth_rgb(16, 16)).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    assert estimate_quality(Image.open(buf).quantization) == quality


def test_quality_of_other_files_is_none(tmp_path: Path) -> None:
    assert estimate_quality(None) is None and estimate_quality({}) is None
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / "a.png")
    assert open_image(tmp_path / "a.png")[1].jpeg_quality is None
    assert open_image(_jpeg(tmp_path / "b.jpg", 40))[1].jpeg_quality == 40
