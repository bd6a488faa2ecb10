"""The CNN generator: residual blocks and sub-pixel (pixel-shuffle) upsampling.

Neural Enhance's generator, kept compact for CPUs: a head convolution, ``blocks`` residual
blocks (conv-ReLU-conv plus identity), optional stride-2 ``downscale`` stages that widen the
receptive field for repair models, a sub-pixel tail that upsamples by ``scale`` (times
``2**downscale``), and an optional global skip that adds a bilinear upsample of the input
(``residual``), so the network only learns the detail a cheap resampler misses.

This module imports torch; nothing on the RAISR or classical paths imports it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .generator_config import GeneratorConfig

__all__ = ["GeneratorConfig", "Generator"]


class _ResBlock(nn.Module):
    def __init__(self, filters: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(filters, filters, 3, padding=1)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


class Generator(nn.Module):
    """Residual sub-pixel super-resolution network.

    Input ``(N, C, H, W)`` float in [0, 1]; output ``(N, C, H*scale, W*scale)``, roughly in
    [0, 1] (not clipped: clip after the call). With ``downscale = d``, H and W must be
    multiples of ``2**d`` (see :attr:`multiple_of`).

    Example:
        >>> g = Generator(GeneratorConfig(scale=2, blocks=1, filters=8))
        >>> g(torch.rand(1, 3, 10, 12)).shape
        torch.Size([1, 3, 20, 24])
    """

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        c, f = config.channels, config.filters
        self.config = config
        self.head = nn.Conv2d(c, f, 3, padding=1)
        self.down = nn.ModuleList(nn.Conv2d(f, f, 4, stride=2, padding=1) for _ in range(config.downscale))
        self.body = nn.Sequential(*(_ResBlock(f) for _ in range(config.blocks)))
        self.body_end = nn.Conv2d(f, f, 3, padding=1)
        r = config.scale * (2 ** config.downscale)
        self.tail = nn.Conv2d(f, c * r * r, 3, padding=1)
        self.shuffle = nn.PixelShuffle(r)

    @property
    def multiple_of(self) -> int:
        """Input sides must be multiples of this (pad the input otherwise)."""
        return self.config.multiple_of

    @property
    def receptive_radius(self) -> int:
        """An upper bound on the input pixels each output pixel depends on, per side."""
        return self.config.receptive_radius

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)
        h = feat
        for d in self.down:
            h = F.relu(d(h), inplace=True)
        h = self.body_end(self.body(h))
        if self.config.downscale == 0:
            h = h + feat
        out = self.shuffle(self.tail(h))
        if self.config.residual:
            s = self.config.scale
            base = x if s == 1 else F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)
            out = out + base
        return out


def save_generator(path: str, model: Generator, metadata: dict[str, str] | None = None) -> None:
    """Write ``model``'s weights to ``path`` (safetensors) with its config in the header, atomically
    (:func:`~enhance.models.weightfile.write_tensors`)."""
    from .weightfile import write_tensors

    meta = {"arch": "generator", "config": model.config.to_json(), "scale": str(model.config.scale)}
    meta.update(metadata or {})
    write_tensors(path, {k: v.detach().float().contiguous().cpu().numpy() for k, v in model.state_dict().items()}, meta)


def load_generator(path: str) -> tuple[Generator, dict[str, str]]:
    """Load a generator written by :func:`save_generator` (safe: no pickle).

    Raises:
        ModelError: not a readable generator file.
    """
    from ..errors import ModelError
    from .weightfile import read_tensors

    tensors, meta = read_tensors(path)
    if meta.get("arch") != "generator":
        raise ModelError(f"{path}: not a generator model (arch={meta.get('arch')!r})")
    model = Generator(GeneratorConfig.from_json(meta["config"]))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    model.eval()
    return model, meta
