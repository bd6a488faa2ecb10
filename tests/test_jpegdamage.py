"""JPEG damage: the quality read from a file's tables, and the repair model run before enlarging."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import enhance
from enhance.cli import main
from enhance.image import open_image
from enhance.jpegdamage import estimate_quality
from enhance.treatment import REPAIR_AT_OR_BELOW, wants_repair

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


def test_when_repair_runs_first() -> None:
    q = REPAIR_AT_OR_BELOW
    assert wants_repair("auto", "default", 2, q) and not wants_repair("auto", "default", 2, q + 1)
    assert not wants_repair("auto", "default", 2, None)  # not a JPEG
    assert not wants_repair("auto", "raisr", 2, 20)  # auto serves the default model only
    assert not wants_repair("auto", "default", 2, 20, descreening=True)  # the descreener knows JPEG itself
    assert wants_repair("always", "raisr", 3, None) and not wants_repair("always", "repair", 1, 20)
    assert not wants_repair("never", "default", 2, 10)
    with pytest.raises(ValueError):
        wants_repair("sometimes", "default", 2, 10)


def test_command_repairs_a_damaged_jpeg_before_enlarging(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _jpeg(tmp_path / "bad.jpg", 30)
    good = _jpeg(tmp_path / "good.jpg", 95)
    assert main(["--zoom=2", "-o", str(tmp_path / "auto"), str(bad), str(good)]) == 0
    err = capsys.readouterr().err
    assert "bad.jpg" in err and "quality 30" in err and "quality 95" not in err
    assert main(["--zoom=2", "-q", "--repair", "never", "-o", str(tmp_path / "never"), str(bad), str(good)]) == 0
    auto_bad = np.asarray(Image.open(tmp_path / "auto" / "bad_ne2x.png"))
    never_bad = np.asarray(Image.open(tmp_path / "never" / "bad_ne2x.png"))
    assert auto_bad.shape == never_bad.shape == (48, 64, 3)
    assert np.abs(auto_bad.astype(int) - never_bad).mean() > 0.5  # the repair model ran first
    assert np.array_equal(np.asarray(Image.open(tmp_path / "auto" / "good_ne2x.png")),
                          np.asarray(Image.open(tmp_path / "never" / "good_ne2x.png")))  # q95 left as it is
    with pytest.raises(SystemExit) as exc:
        main(["--zoom=2", "--repair", "sometimes", str(bad)])
    assert exc.value.code == 2 and "--repair" in capsys.readouterr().err


def test_library_repairs_a_pil_jpeg_in_auto_mode(tmp_path: Path) -> None:
    im = Image.open(_jpeg(tmp_path / "bad.jpg", 20))
    auto = np.asarray(enhance.upscale(im, 2))
    never = np.asarray(enhance.upscale(im, 2, repair="never"))
    assert auto.shape == never.shape == (48, 64, 3) and not np.array_equal(auto, never)
    arr = np.asarray(im.convert("RGB"))  # an array carries no JPEG tables: auto leaves it alone
    assert np.array_equal(np.asarray(enhance.upscale(arr, 2)), never)


def test_type_jpeg_picks_a_variant_of_its_own_or_repairs_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """load_model(name, zoom, "jpeg"): the model's JPEG variant where there is one (here a
    user's file), otherwise the repair chain; the command uses the variant on damaged JPEGs."""
    import torch

    from enhance.models.chain import Chain
    from enhance.models.generator import Generator, GeneratorConfig, save_generator
    from enhance.models.registry import has_variant
    from enhance.treatment import load_model

    assert isinstance(load_model("default", 3, "jpeg", search_dir=tmp_path), Chain)  # no x3 variant anywhere
    torch.manual_seed(0)
    save_generator(str(tmp_path / "ne2x-jpeg-default.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    assert has_variant("default", 2, "jpeg", tmp_path) and not has_variant("default", 3, "jpeg", tmp_path)
    variant = load_model("default", 2, "jpeg", search_dir=tmp_path)
    assert not isinstance(variant, Chain) and variant.scale == 2
    plain = load_model("default", 2, search_dir=tmp_path)  # without a type: the plain model, not the variant
    x = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    assert not np.allclose(plain(x), variant(x), atol=1e-3)
    assert isinstance(load_model("default", 3, "jpeg", search_dir=tmp_path), Chain)  # no x3 variant: repair first
    monkeypatch.chdir(tmp_path)
    bad = _jpeg(tmp_path / "bad.jpg", 30)
    assert main(["--zoom=2", "-o", "out", str(bad)]) == 0
    assert "JPEG variant" in capsys.readouterr().err
    from enhance.image import open_image as _open
    from enhance.upscaling import upscale_pixels

    pixels, _ = _open(bad)
    expect = upscale_pixels(pixels, "RGB", variant)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "bad_ne2x.png")), expect)


def test_type_jpeg_is_not_treated_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--type=jpeg already picks the JPEG treatment; --repair auto must not chain another repair."""
    from enhance.models.chain import Chain

    calls: list[int] = []
    real_init = Chain.__init__

    def counting(self: Chain, first: object, then: object) -> None:
        calls.append(1)
        real_init(self, first, then)  # type: ignore[arg-type]

    monkeypatch.setattr(Chain, "__init__", counting)
    bad = _jpeg(tmp_path / "bad.jpg", 20)
    assert main(["--zoom=3", "-q", "--type=jpeg", "-o", str(tmp_path / "o"), str(bad)]) == 0
    assert len(calls) == 1  # one repair chain (the x3 model has no JPEG variant)
    calls.clear()
    enhance.upscale(Image.open(bad), 3, type="jpeg")
    assert len(calls) == 1
