"""Self-ensemble: flipped and rotated passes are undone exactly and averaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhance.cli import main
from enhance.errors import ModelError
from enhance.models.classical import ClassicalUpscaler
from enhance.models.ensemble import Ensemble
from enhance.treatment import load_model
from enhance.treatment import upscale
from enhance.upscaling import upscale_pixels

from .conftest import smooth_rgb


def _random_generator(scale: int):  # type: ignore[no-untyped-def]
    import torch

    from enhance.models.generator import Generator, GeneratorConfig
    from enhance.models.torch_runtime import NeuralUpscaler

    torch.manual_seed(0)
    return NeuralUpscaler(Generator(GeneratorConfig(scale=scale, blocks=1, filters=8)), "test", precision="fp32")


@pytest.mark.parametrize("scale", [2, 3])
@pytest.mark.parametrize("passes", [2, 4, 8])
def test_symmetric_model_is_unchanged(scale: int, passes: int) -> None:
    """Bicubic treats every orientation alike, so undoing each pass must give bicubic back
    (a wrong inverse, e.g. a transpose left in, would misplace pixels on this non-square tile)."""
    x = smooth_rgb(13, 21).astype(np.float32) / 255.0
    m = ClassicalUpscaler("bicubic", scale)
    out = Ensemble(m, passes)(x)
    assert out.shape == (13 * scale, 21 * scale, 3)
    assert np.abs(out - m(x)).max() < 1e-4


def test_eight_passes_make_any_model_flip_and_rotation_equivariant() -> None:
    m = _random_generator(2)
    x = smooth_rgb(16, 24).astype(np.float32) / 255.0
    assert np.abs(m(x[:, ::-1]) - m(x)[:, ::-1]).max() > 1e-3  # the bare model is not
    e = Ensemble(m, 8)
    y = e(x)
    np.testing.assert_allclose(e(np.ascontiguousarray(x[:, ::-1])), y[:, ::-1], atol=1e-5)
    np.testing.assert_allclose(e(np.ascontiguousarray(x.transpose(1, 0, 2))), y.transpose(1, 0, 2), atol=1e-5)
    np.testing.assert_allclose(e(np.ascontiguousarray(np.rot90(x))), np.rot90(y), atol=1e-5)


def test_tiled_ensemble_equals_whole() -> None:
    e = Ensemble(_random_generator(2), 8)
    img = smooth_rgb(40, 34)
    whole = upscale_pixels(img, "RGB", e, tile=1000, overlap=0)
    tiled = upscale_pixels(img, "RGB", e, tile=20, overlap=8)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_library_and_command(tmp_path: Path) -> None:
    img = smooth_rgb(10, 14)
    assert upscale(img, 2, "bicubic", ensemble=4).shape == (20, 28, 3)
    assert load_model("bicubic", 2, ensemble=8).name == "bicubic*8"
    with pytest.raises(ModelError, match="ensemble"):
        load_model("bicubic", 2, ensemble=3)
    src = tmp_path / "a.png"
    Image.fromarray(img).save(src)
    assert main(["--zoom=2", "--model=bicubic", "--ensemble=8", "-q", str(src)]) == 0
    assert Image.open(tmp_path / "a_ne2x.png").size == (28, 20)
    with pytest.raises(SystemExit) as bad:
        main(["--zoom=2", "--model=bicubic", "--ensemble=3", "-q", str(src)])
    assert bad.value.code == 2
