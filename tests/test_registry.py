"""The registry: names -> files -> one loaded model; the zoo read once; a user folder re-read when
it changes; the one safetensors reader; shipped weights checked against their sha256."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import enhance.models.registry as registry
from enhance.errors import ModelError
from enhance.models.chain import Chain
from enhance.models.classical import ClassicalUpscaler
from enhance.models.generator import Generator, GeneratorConfig, save_generator
from enhance.models.registry import find_model, has_variant, list_models, open_model
from enhance.models.weightfile import read_header, read_tensors


def test_open_model_is_one_model_never_a_chain() -> None:
    assert isinstance(open_model("bicubic", 2, "print"), ClassicalUpscaler)  # no descreener in front
    variant = open_model("default", 2, "jpeg")  # the variant's own file, not repair + default
    assert not isinstance(variant, Chain) and variant.scale == 2
    with pytest.raises(ModelError, match="has no x3 version"):
        open_model("repair", 3)


def test_the_zoo_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert any(e.name == "default" for e in list_models())
    monkeypatch.setattr(registry, "ZOO_PATH", tmp_path / "gone.json")  # a second read would find nothing
    assert any(e.name == "default" for e in list_models())


def test_a_users_folder_is_read_again_when_it_changes(tmp_path: Path) -> None:
    assert not has_variant("toy", 2, "photo", tmp_path)
    torch.manual_seed(0)
    save_generator(str(tmp_path / "ne2x-photo-toy.safetensors"), Generator(GeneratorConfig(scale=2, blocks=1, filters=8)))
    entry, mfile = find_model("toy", 2, None, tmp_path)
    assert entry.origin == str(tmp_path) and mfile is not None and mfile.path.name == "ne2x-photo-toy.safetensors"
    assert has_variant("toy", 2, "photo", tmp_path) and not has_variant("toy", 3, "photo", tmp_path)


def test_a_plain_variant_comes_before_the_special_ones() -> None:
    entry, _ = find_model("default", 2)
    assert entry.type == "photo"
    assert find_model("default", 2, "jpeg")[0].type == "jpeg"


def test_one_header_reader_names_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "ne2x-photo-junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelError, match="ne2x-photo-junk.safetensors: not a readable safetensors model"):
        read_header(junk)
    listed = [e for e in list_models(tmp_path) if e.name == "junk"]  # listed as unusable, not fatal to the listing
    assert len(listed) == 1 and "unusable" in listed[0].description
    with pytest.raises(ModelError, match="ne2x-photo-junk.safetensors: not a readable"):
        open_model("junk", 2, search_dir=tmp_path)
    shipped = registry.WEIGHTS_DIR / "default-x2.safetensors"
    head = read_header(shipped)
    tensors, meta = read_tensors(shipped)
    assert meta == head and head["arch"] == "generator" and all(isinstance(v, np.ndarray) for v in tensors.values())


def test_a_tampered_shipped_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "weights"
    shutil.copytree(registry.WEIGHTS_DIR, weights)
    data = bytearray((weights / "raisr-x2.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (weights / "raisr-x2.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(registry, "WEIGHTS_DIR", weights)
    registry._shipped.cache_clear()
    try:
        with pytest.raises(ModelError, match="fails its sha256 check"):
            open_model("raisr", 2)
        assert open_model("raisr", 3).scale == 3  # the others still load
    finally:
        monkeypatch.undo()
        registry._shipped.cache_clear()


def _generator_file(path: Path, config: dict | None = None, drop: str = "", nan: bool = False,
                    header: dict | None = None) -> Path:
    """A weight file written by hand: a tiny generator's tensors, with a config and header to taste."""
    from enhance.models.weightfile import write_tensors

    cfg = GeneratorConfig(scale=2, blocks=1, filters=8)
    rng = np.random.default_rng(0)
    tensors = {k: (rng.standard_normal(s) * 0.01).astype(np.float32) for k, s in cfg.tensor_shapes().items() if k != drop}
    if nan:
        tensors["tail.bias"][:] = np.nan
    meta = {"arch": "generator", "config": json.dumps(config if config is not None else json.loads(cfg.to_json()))}
    meta.update(header or {})
    write_tensors(path, tensors, {k: v for k, v in meta.items() if v is not None})
    return path


HOSTILE = {
    "x4 in an x2 name": ({"scale": 4, "blocks": 1, "filters": 8, "downscale": 0, "residual": True, "channels": 3}, "",
                         {}, "named x2 but the model in it is x4"),
    "200,000 blocks": ({"scale": 2, "blocks": 200000, "filters": 8}, "", {}, "blocks=200000 is outside"),
    "negative scale": ({"scale": -2, "blocks": 1, "filters": 8}, "", {}, "scale=-2 is outside"),
    "unknown field": ({"scale": 2, "blocks": 1, "filters": 8, "wings": 2}, "", {}, "unusable config"),
    "no config": (None, "", {"config": None}, "no config in its header"),
    "wrong arch": (None, "", {"arch": "transformer"}, "unknown architecture 'transformer'"),
    "missing tensor": (None, "tail.bias", {}, "tensor tail.bias missing"),
    "wrong shapes": ({"scale": 2, "blocks": 1, "filters": 16}, "", {}, "does not match its config"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_malformed_model_file_is_one_line_and_exit_2(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from enhance.cli import main

    from .conftest import smooth_rgb

    config, drop, header, message = HOSTILE[case]
    _generator_file(tmp_path / "ne2x-photo-mine.safetensors", config, drop, header=header)
    with pytest.raises(ModelError, match=message):
        open_model("mine", 2, search_dir=tmp_path)
    Image.fromarray(smooth_rgb(8, 8)).save(tmp_path / "a.png")
    monkeypatch.chdir(tmp_path)
    assert main(["--model=mine", "a.png"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count(message) == 1 and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "a_ne2x.png").exists()


def test_a_model_giving_non_finite_pixels_is_refused(tmp_path: Path) -> None:
    _generator_file(tmp_path / "ne2x-photo-broken.safetensors", nan=True)
    with pytest.raises(ModelError, match="non-finite"):
        open_model("broken", 2, search_dir=tmp_path)
    _generator_file(tmp_path / "ne2x-photo-fine.safetensors")
    assert open_model("fine", 2, search_dir=tmp_path).scale == 2


def test_a_shipped_name_cannot_be_shadowed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``ne2x-photo-default.safetensors`` beside the inputs (here with NaN weights) is not used:
    ``default`` stays the sha256-checked shipped model, and a warning says why."""
    _generator_file(tmp_path / "ne2x-photo-default.safetensors", nan=True)
    with caplog.at_level("WARNING"):
        entry, mfile = find_model("default", 2, None, tmp_path)
    assert entry.origin == "shipped" and mfile is not None and mfile.sha256
    assert "cannot take the shipped name 'default'" in caplog.text
    x = np.full((16, 16, 3), 0.5, np.float32)
    assert np.isfinite(open_model("default", 2, search_dir=tmp_path)(x)).all()
    assert not [e for e in list_models(tmp_path) if e.origin != "shipped" and e.name == "default"]
