"""The ONNX Runtime backend computes what the PyTorch generator computes, and is the CPU default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from enhance.models.generator import Generator, GeneratorConfig, save_generator
from enhance.models.torch_runtime import NeuralUpscaler
from enhance.models.onnx_runtime import OrtUpscaler
from enhance.treatment import load_model


def _random_generator(cfg: GeneratorConfig) -> Generator:
    torch.manual_seed(3)
    g = Generator(cfg)
    with torch.no_grad():
        for p in g.parameters():  # larger than the init, so every layer shows in the output
            p.add_(0.05 * torch.randn_like(p))
    return g.eval()


@pytest.mark.parametrize("cfg", [
    GeneratorConfig(scale=2, blocks=2, filters=8),
    GeneratorConfig(scale=3, blocks=1, filters=8),
    GeneratorConfig(scale=4, blocks=1, filters=6, residual=False),
    GeneratorConfig(scale=1, blocks=2, filters=8, downscale=2, residual=False),
    GeneratorConfig(scale=1, blocks=1, filters=8, downscale=1),
], ids=["x2", "x3", "x4-no-skip", "x1-down2", "x1-down1-skip"])
@pytest.mark.parametrize("channels", [3, 1])
def test_matches_torch(tmp_path: Path, cfg: GeneratorConfig, channels: int) -> None:
    g = _random_generator(cfg)
    path = tmp_path / "g.safetensors"
    save_generator(str(path), g)
    x = np.random.default_rng(0).random((24, 20, channels)).astype(np.float32)
    ref = NeuralUpscaler(g, "t", precision="fp32")(x)
    out = OrtUpscaler.from_file(str(path), "t")(x)
    assert out.shape == ref.shape == (24 * cfg.scale, 20 * cfg.scale, channels)
    assert np.abs(out - ref).max() < 1e-4
    assert np.abs(ref - np.repeat(x, cfg.scale, 0).repeat(cfg.scale, 1)).max() > 1e-2  # not a trivial net


def test_cpu_default_is_onnxruntime_and_torch_on_request() -> None:
    auto = load_model("default", 2, precision="fp32")
    assert isinstance(auto, OrtUpscaler)
    # the defaults too, also on CPUs with bf16 units: bf16 (PyTorch) only when asked for
    assert isinstance(load_model("default", 2), OrtUpscaler)
    bf16 = load_model("default", 2, precision="bf16")
    assert isinstance(bf16, NeuralUpscaler) and bf16.precision == "bf16"
    assert isinstance(load_model("default", 2, precision="fp32", backend="torch"), NeuralUpscaler)
    x = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32)
    ref = load_model("default", 2, precision="fp32", backend="torch")(x)
    assert np.abs(auto(x) - ref).max() < 1e-4


def test_a_built_graph_is_cached_and_the_next_load_never_imports_onnx(tmp_path: Path) -> None:
    """Importing onnx costs most of a one-picture command: the graph is built once, cached by the
    weight file's sha256, and later loads give ONNX Runtime the cached graph, with the same output."""
    import os
    import subprocess
    import sys

    code = ("import sys, numpy as np; from enhance.treatment import load_model; m = load_model('default', 2); "
            "y = m(np.linspace(0, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)); "
            "print('onnx' in sys.modules, float(y.sum()))")
    env = {**os.environ, "ENHANCE_CACHE": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    built, total1 = first.stdout.split()
    cached, total2 = second.stdout.split()
    assert built == "True" and cached == "False" and total1 == total2
    assert len(list((tmp_path / "cache").glob("generator-*.onnx"))) == 1
    off = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ENHANCE_CACHE": ""}, capture_output=True,
                         text=True)
    assert off.stdout.split()[0] == "True"  # caching off: built every time, nothing written


def test_bf16_asked_for_on_a_cpu_without_bf16_units_says_it_is_slow(monkeypatch: pytest.MonkeyPatch,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """``--precision bf16`` is honoured, but where the CPU has no bf16 units autocast emulates it
    (15 times the fp32 time on a Zen 3 EPYC): the user is told; ``auto`` there is fp32, silently."""
    import logging

    from enhance.models import torch_runtime

    g = Generator(GeneratorConfig(scale=2, blocks=1, filters=8))
    monkeypatch.setattr(torch_runtime, "bf16_supported", lambda: False)
    with caplog.at_level(logging.WARNING, logger="enhance"):
        assert NeuralUpscaler(g, "test", precision="auto").precision == "fp32"
        assert not caplog.records
        assert NeuralUpscaler(g, "test", precision="bf16").precision == "bf16"
    assert "no bf16 units" in caplog.text and "many times slower" in caplog.text
    caplog.clear()
    monkeypatch.setattr(torch_runtime, "bf16_supported", lambda: True)
    with caplog.at_level(logging.WARNING, logger="enhance"):
        assert NeuralUpscaler(g, "test", precision="bf16").precision == "bf16"
    assert not caplog.records
