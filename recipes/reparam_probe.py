"""Re-parameterised convolutions on the shipped x2, against plain fine-tuning at equal wall time.

    python -m recipes.reparam_probe plain --minutes 30 --out runs/reparam/plain.safetensors
    python -m recipes.reparam_probe rep --minutes 30 --out runs/reparam/rep.safetensors

Issue 20's lever "re-parameterisable convolutions (train multi-branch, ship one 3x3 per layer)":
both runs fine-tune the shipped ``default`` x2 on its recipe's data (``bicubic-text``, the
line-art stages' shares, 64 px LR patches, batches of 16, MSE, bf16 autocast, Adam) with a
cosine learning rate that reaches zero at ``--minutes`` (equal wall time, the same seed and so
the same batches). ``rep`` trains every 3x3 convolution as the sum of four branches, folded into
one kernel at every step (linear branches without normalisation fold exactly, so a step costs
what the plain one does): the shipped 3x3 kernel, a 1x1 kernel, a per-channel identity (where
input and output widths match) and a 1x1 expansion to twice the width followed by a 3x3 (the
ECB/RepVGG family's branches). The new branches start at zero (the expansion's 1x1 at random),
so training starts from the shipped network's output. The written file is an ordinary
generator of the shipped shape and speed; score it as a user model (``ne2x-photo-NAME``).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from enhance.models.generator import Generator, load_generator, save_generator
from enhance.models.registry import WEIGHTS_DIR
from enhance.train.data import batches
from enhance.train.degrade import PRESETS
from recipes.corpus import kind_weights, load_corpus
from recipes.train_neural import LINEART_SHARES


class _RepConv(nn.Module):
    """A 3x3 convolution trained as four linear branches, folded into one kernel per call."""

    def __init__(self, conv: nn.Conv2d, seed: int) -> None:
        super().__init__()
        o, i = conv.out_channels, conv.in_channels
        self.w3 = nn.Parameter(conv.weight.detach().clone())
        self.bias = nn.Parameter(conv.bias.detach().clone())
        self.w1 = nn.Parameter(torch.zeros(o, i))
        self.ident = nn.Parameter(torch.zeros(o)) if o == i else None
        g = torch.Generator().manual_seed(seed)
        self.expand = nn.Parameter(torch.randn(2 * i, i, generator=g) / math.sqrt(i))
        self.squeeze = nn.Parameter(torch.zeros(o, 2 * i, 3, 3))

    def kernel(self) -> torch.Tensor:
        w = self.w3 + torch.einsum("omhw,mi->oihw", self.squeeze, self.expand)
        centre = self.w1 if self.ident is None else self.w1 + torch.diag(self.ident)
        return w + F.pad(centre[:, :, None, None], (1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.kernel(), self.bias, padding=1)


def _reparameterise(model: nn.Module, seed: int) -> None:
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Conv2d) and child.kernel_size == (3, 3) and child.stride == (1, 1):
            setattr(model, name, _RepConv(child, seed + len(name)))
        else:
            _reparameterise(child, seed + 1)


def _fold(model: nn.Module) -> None:
    for name, child in list(model.named_children()):
        if isinstance(child, _RepConv):
            conv = nn.Conv2d(child.w3.shape[1], child.w3.shape[0], 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(child.kernel())
                conv.bias.copy_(child.bias)
            setattr(model, name, conv)
        else:
            _fold(child)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("plain", "rep"))
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=46)
    ap.add_argument("--corpus", default="data/corpus")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen, meta = load_generator(str(WEIGHTS_DIR / "default-x2.safetensors"))
    gen.train()
    if args.mode == "rep":
        _reparameterise(gen, args.seed)
    images, kinds = load_corpus(args.corpus)
    stream = batches(images, 2, 128, PRESETS["bicubic-text"], 16, seed=args.seed,
                     weights=kind_weights(images, kinds, LINEART_SHARES))
    opt = torch.optim.Adam(gen.parameters(), lr=args.lr)
    t0, it, run = time.time(), 0, 0.0
    while (elapsed := time.time() - t0) < 60 * args.minutes:
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * elapsed / (60 * args.minutes)))
        lr_np, hr_np, _ = next(stream)
        x = torch.from_numpy(lr_np).permute(0, 3, 1, 2).float().div_(255.0)
        y = torch.from_numpy(hr_np).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = gen(x)
        loss = F.mse_loss(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        it += 1
        run = 0.99 * run + 0.01 * float(loss.detach()) if it > 1 else float(loss.detach())
        if it % 200 == 0:
            logging.info("%s iteration %d, %.1f min, loss %.6f", args.mode, it, elapsed / 60, run)
    _fold(gen)
    assert isinstance(gen, Generator)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_generator(args.out, gen.eval(), {"type": "photo", "probe": f"reparam_probe {args.mode}, {it} iterations"})
    logging.info("%s: %d iterations in %.1f min -> %s", args.mode, it, (time.time() - t0) / 60, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
