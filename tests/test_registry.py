"""The registry: names -> files -> one loaded model; the zoo read once; a user folder re-read when
it changes; the one safetensors reader; shipped weights checked against their sha256."""

from __future__ import annotations

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
    assert not [e for e in list_models(tmp_path) if e.name == "junk"]  # skipped with a warning, not fatal
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
