"""Runs a trained :class:`~enhance.models.generator.Generator` as an Upscaler (imports torch)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from .generator_config import bf16_supported
from .generator import Generator, load_generator

log = logging.getLogger(__name__)

__all__ = ["NeuralUpscaler", "bf16_supported"]


class NeuralUpscaler:
    """A generator network behind the Upscaler interface.

    Gray input is replicated to RGB and the three outputs averaged back.

    Args:
        model: the network (eval mode).
        name: registry name.
        device: "cpu" or "cuda".
        precision: "fp32", "bf16" or "auto" (bf16 autocast where the CPU has bf16 units).
    """

    def __init__(self, model: Generator, name: str, device: str = "cpu", precision: str = "auto") -> None:
        self.name = name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        if self.device.type == "cpu":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.scale = model.config.scale
        self.context = model.receptive_radius
        self.multiple_of = model.multiple_of
        if precision == "auto":
            precision = "bf16" if (self.device.type == "cuda" or bf16_supported()) else "fp32"
        elif precision == "bf16" and self.device.type == "cpu" and not bf16_supported():
            # autocast emulates bf16 there: 15 times the fp32 time for the x2 model (AMD EPYC Zen 3)
            log.warning("the %s model: this CPU has no bf16 units (AVX512-BF16 or AMX), so --precision bf16 runs many "
                        "times slower than fp32 here", name)
        self.precision = precision

    @classmethod
    def from_file(cls, path: str, name: str, device: str = "cpu", precision: str = "auto") -> "NeuralUpscaler":
        model, _meta = load_generator(path)
        return cls(model, name, device, precision)

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        c = x.shape[2]
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(2, 0, 1)[None]
        if c == 1:
            t = t.expand(1, 3, *t.shape[2:])
        t = t.to(self.device)
        if self.device.type == "cpu":
            t = t.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            y = self.model(t)
        y = y.float()[0].permute(1, 2, 0).cpu().numpy()
        if c == 1:
            y = y.mean(axis=2, keepdims=True)
        return np.ascontiguousarray(y, dtype=np.float32)
