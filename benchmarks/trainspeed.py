"""How long one training step takes, fp32 against bf16 autocast (``python -m benchmarks trainstep``).

A step is what :func:`enhance.train.loop.train` does per iteration once the batch is drawn: the
generator's forward pass (under bf16 autocast or not), an MSE loss in fp32, the backward pass
and an Adam update. Random data of the recipes' shapes; the batch sampler's own cost is apart.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from enhance.models.generator import Generator
from enhance.models.generator_config import GeneratorConfig


def step_seconds(precision: str, scale: int = 2, blocks: int = 9, filters: int = 48, lr_patch: int = 64,
                 batch: int = 16, runs: int = 6, warmup: int = 2, seed: int = 0) -> float:
    """Median seconds of ``runs`` training steps after ``warmup`` ones, in this process's torch
    threads: a ``blocks`` x ``filters`` generator at ``scale`` on ``batch`` LR patches of
    ``lr_patch`` px; ``precision`` is ``"fp32"`` or ``"bf16"``."""
    torch.manual_seed(seed)
    gen = Generator(GeneratorConfig(scale=scale, blocks=blocks, filters=filters))
    opt = torch.optim.Adam(gen.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, lr_patch, lr_patch)
    y = torch.rand(batch, 3, lr_patch * scale, lr_patch * scale)
    times = []
    for _ in range(warmup + runs):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out = gen(x)
        loss = F.mse_loss(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    kept = sorted(times[warmup:])
    return kept[len(kept) // 2]
