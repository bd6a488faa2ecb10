"""The training loop behind ``enhance --train``: pixel, perceptual, smoothness and adversarial losses.

Checkpoints are safetensors (model, discriminator and optimiser state, no pickle) plus a JSON
state file in the run folder; a run with the same folder resumes where it stopped. Progress goes
to a callback, never to stdout.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models.generator import Generator, GeneratorConfig, save_generator
from ..models.tone import sigma_for
from .data import batches
from .degrade import PRESETS

log = logging.getLogger(__name__)

__all__ = ["TrainConfig", "TrainProgress", "train"]


@dataclass
class TrainConfig:
    """Everything a training run needs (the ``enhance --train`` flags).

    Loss weights follow Neural Enhance: each term is multiplied by its weight; ``pixel_weight``
    is new here (Neural Enhance had no pixel term) and drives the faithful models.
    ``tone_sigma`` (x1 only) trains the model as :class:`~enhance.models.tone.ToneKept` runs
    it: the pixel loss is taken on ``out - G(out) + G(x)`` with ``G`` a Gaussian of that sigma,
    plus a tenth of it on the raw output, which keeps the raw model's tone near the target.
    With ``tone_at_period``, each pair's sigma is the one the command runs for its screen
    (:func:`~enhance.models.tone.sigma_for` of the simulator's period; ``tone_sigma`` is then
    the sigma for pairs without a lattice screen, as :data:`~enhance.models.tone.SIGMA` is).
    ``precision="bf16"`` runs the generator's forward pass (and so its backward) under bf16
    autocast; the weights, the optimiser and the losses stay fp32. On CPUs with AVX512-BF16 an
    iteration of the x2 network takes about half the fp32 time (BENCHMARKS.md).
    """

    scale: int = 2
    type: str = "photo"
    epochs: int = 10
    epoch_size: int = 72
    batch_size: int = 15
    batch_shape: int = 96
    learning_rate: float = 1e-4
    learning_period: int = 75
    learning_decay: float = 0.5
    schedule: str = "step"  # "step" (Neural Enhance) or "cosine" (to zero over all epochs)
    pixel_loss: str = "l1"
    pixel_weight: float = 1.0
    perceptual_layer: str = "conv2_2"
    perceptual_weight: float = 0.0
    smoothness_weight: float = 0.0
    adversary_weight: float = 0.0
    generator_start: int = 0
    discriminator_start: int = 1
    adversarial_start: int = 2
    discriminator_size: int = 32
    degradation: str = "bicubic"
    train_blur: float | None = None
    train_noise: float | None = None
    train_jpeg: int | None = None
    train_scales: int = 0
    save_every: int = 10
    device: str = "cpu"
    precision: str = "fp32"  # "fp32", or "bf16": the generator's forward pass under bf16 autocast
    workers: int = 0  # processes drawing the batches (0: this one; a GPU wants several)
    threads: int = 0
    seed: int = 0
    tone_sigma: float = 0.0
    tone_at_period: bool = False
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)


@dataclass
class TrainProgress:
    """One report from :func:`train` (per iteration batch and at each epoch end)."""

    epoch: int
    epochs: int
    iteration: int
    iterations_per_epoch: int
    losses: dict[str, float]
    learning_rate: float
    seconds: float
    epoch_done: bool = False


class _Discriminator(nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        c = size
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * c, 4 * c, 3, padding=1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(4 * c, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0)


def _tv(x: torch.Tensor) -> torch.Tensor:
    """Neural Enhance's smoothness term: mean of (dx^2 + dy^2)^1.25 on [0, 1] images."""
    dx = x[:, :, :-1, :-1] - x[:, :, :-1, 1:]
    dy = x[:, :, :-1, :-1] - x[:, :, 1:, :-1]
    return ((dx * dx + dy * dy + 1e-12) ** 1.25).mean()


def _tone_kept(out: torch.Tensor, x: torch.Tensor, sigma: float | list[float]) -> torch.Tensor:
    """``out - G(out) + G(x)`` on ``(N, C, H, W)``, ``G`` a Gaussian of ``sigma`` pixels with
    reflected edges, truncated at 3 sigma (radius rounded) as :func:`enhance.models.tone.low_pass` is; a list
    gives each of the N images its own sigma."""
    if not isinstance(sigma, (int, float)):
        if len(sigma) != out.shape[0]:
            raise ValueError(f"{len(sigma)} sigmas for a batch of {out.shape[0]}")
        parts = [_tone_kept(out[i:i + 1], x[i:i + 1], float(sg)) for i, sg in enumerate(sigma)]
        return torch.cat(parts, dim=0)
    r = int(3.0 * sigma + 0.5)  # scipy's radius for truncate=3
    t = torch.arange(-r, r + 1, dtype=out.dtype, device=out.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = out.shape[1]

    def blur(z: torch.Tensor) -> torch.Tensor:  # scipy's "reflect": the edge pixel repeated in the mirror
        z = torch.cat([z[..., :r].flip(-1), z, z[..., -r:].flip(-1)], dim=-1)
        z = torch.cat([z[..., :r, :].flip(-2), z, z[..., -r:, :].flip(-2)], dim=-2)
        z = F.conv2d(z, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        return F.conv2d(z, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)

    return out - blur(out) + blur(x)


def _state_to_tensors(prefix: str, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for pid, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{prefix}.{pid}.{k}"] = v.detach().cpu().reshape(-1) if torch.is_tensor(v) else torch.tensor([float(v)])
    return out


def _load_opt(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    params = [p for g in opt.param_groups for p in g["params"]]
    state = {}
    for pid, p in enumerate(params):
        keys = [k for k in tensors if k.startswith(f"{prefix}.{pid}.")]
        if not keys:
            continue
        st = {}
        for k in keys:
            name = k.rsplit(".", 1)[1]
            v = tensors[k]
            st[name] = v.reshape(p.shape).clone() if name.startswith("exp_avg") else v.reshape(()).clone()
        state[pid] = st
    sd["state"] = state
    opt.load_state_dict(sd)


def _lr_at(cfg: TrainConfig, epoch_float: float) -> float:
    if cfg.schedule == "cosine":
        return cfg.learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(1.0, epoch_float / max(1, cfg.epochs))))
    return cfg.learning_rate * (cfg.learning_decay ** int(epoch_float // max(1, cfg.learning_period)))


#: how a run is carried out, not what it learns: a checkpoint resumes on another machine, device or
#: thread count (a GPU picking up a CPU run), so these do not make it another run
_RUNTIME_FIELDS = ("threads", "device", "workers")


def _changed_fields(saved: dict[str, object], cfg: TrainConfig) -> list[str]:
    """The fields of ``cfg`` that differ from a checkpoint's saved configuration, runtime ones aside."""
    now = json.loads(json.dumps(asdict(cfg), default=str))
    keys = (set(saved) | set(now)) - set(_RUNTIME_FIELDS)
    return sorted(k for k in keys if json.dumps(saved.get(k), sort_keys=True) != json.dumps(now.get(k), sort_keys=True))


def _init_generator(gen: Generator, init: dict[str, torch.Tensor], source: str) -> None:
    """Load the tensors of ``init`` that fit ``gen`` (fine-tuning). Residual blocks that ``init``
    lacks (a deeper model grown from a shallower one) get their second convolution zeroed, so
    they start as identities and the grown model starts with exactly the smaller one's output."""
    own = gen.state_dict()
    usable = {k: v for k, v in init.items() if k in own and own[k].shape == v.shape}
    gen.load_state_dict(usable, strict=False)
    grown = 0
    if usable:
        for i, block in enumerate(gen.body):
            if f"body.{i}.conv1.weight" not in usable and f"body.{i}.conv2.weight" not in usable:
                with torch.no_grad():
                    block.conv2.weight.zero_()
                    block.conv2.bias.zero_()
                grown += 1
    log.info("initialised %d/%d tensors from %s%s", len(usable), len(own), source,
             f" ({grown} new residual blocks start as identities)" if grown else "")


def train(
    images: list[np.ndarray],
    cfg: TrainConfig,
    run_dir: str | Path,
    output: str | Path,
    init_from: str | Path | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    metadata: dict[str, str] | None = None,
    should_stop: Callable[[], bool] | None = None,
    weights: np.ndarray | None = None,
) -> Path:
    """Train a generator and write it to ``output`` (safetensors).

    Args:
        images: HR training images, ``(H, W, 3)`` uint8.
        cfg: the run's configuration.
        run_dir: folder for checkpoints; an unfinished checkpoint of the same configuration
            there is resumed (a finished or different one is ignored: the run starts anew,
            from ``init_from`` when given).
        output: the model file to write (also rewritten every ``save_every`` epochs).
        init_from: a model file to start from (fine-tuning) when no checkpoint exists.
        progress: called with :class:`TrainProgress` reports.
        metadata: extra strings stored in the model file's header.
        should_stop: polled every iteration; True ends the run after a checkpoint.
        weights: per-image sampling weights (default: by area).

    Returns:
        The path of the written model.
    """
    from safetensors.torch import load_file, save_file

    if cfg.tone_sigma > 0 and cfg.scale != 1:
        raise ValueError("tone_sigma is for x1 models (the descreener) only")
    if cfg.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be fp32 or bf16, not {cfg.precision!r}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    device = torch.device(cfg.device)
    gen = Generator(cfg.generator).to(device)
    disc = _Discriminator(cfg.discriminator_size).to(device) if cfg.adversary_weight > 0 else None
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.learning_rate)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.learning_rate, betas=(0.5, 0.999)) if disc else None
    feats = None
    if cfg.perceptual_weight > 0:
        from .features import FeatureNet

        feats = FeatureNet(cfg.perceptual_layer).to(device).eval()

    start_epoch, iteration = 0, 0
    ckpt, state_file = run / "checkpoint.safetensors", run / "state.json"
    st = json.loads(state_file.read_text()) if ckpt.exists() and state_file.exists() else None
    changed = _changed_fields(st.get("config") or {}, cfg) if st is not None else []
    same_run = st is not None and not changed and int(st["epoch"]) < cfg.epochs
    if st is not None and changed:
        log.warning("%s holds a run of another configuration (%s differ): starting anew", run, ", ".join(changed))
    if st is not None and same_run:
        tensors = load_file(str(ckpt))
        gen.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gen.")})
        _load_opt("opt_g", opt_g, tensors)
        if disc is not None and any(k.startswith("disc.") for k in tensors):
            disc.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc.")})
            _load_opt("opt_d", opt_d, tensors)
        start_epoch, iteration = int(st["epoch"]), int(st["iteration"])
        log.info("resuming %s at epoch %d", run, start_epoch)
    elif init_from is not None:
        _init_generator(gen, load_file(str(init_from)), str(init_from))

    deg = PRESETS[cfg.degradation].with_flags(cfg.train_blur, cfg.train_noise, cfg.train_jpeg)
    stream = batches(images, cfg.scale, cfg.batch_shape, deg, cfg.batch_size, seed=cfg.seed + 7919 * start_epoch,
                     train_scales=cfg.train_scales, weights=weights, workers=cfg.workers)

    def checkpoint(epoch: int) -> None:
        tensors = {f"gen.{k}": v.detach().cpu().contiguous() for k, v in gen.state_dict().items()}
        tensors.update(_state_to_tensors("opt_g", opt_g))
        if disc is not None:
            tensors.update({f"disc.{k}": v.detach().cpu().contiguous() for k, v in disc.state_dict().items()})
            tensors.update(_state_to_tensors("opt_d", opt_d))
        tmp = run / "checkpoint.tmp"
        save_file(tensors, str(tmp))
        os.replace(tmp, ckpt)
        state_file.write_text(json.dumps({"epoch": epoch, "iteration": iteration, "config": asdict(cfg)}, default=str))
        meta = {"type": cfg.type, "trained": json.dumps({"epochs": epoch, "iterations": iteration,
                                                         "degradation": cfg.degradation,
                                                         "losses": _loss_names(cfg)})}
        meta.update(metadata or {})
        save_generator(str(output), gen, meta)

    t0 = time.time()
    stopped = False
    for epoch in range(start_epoch, cfg.epochs):
        sums: dict[str, float] = {}
        gen.train()
        for it in range(cfg.epoch_size):
            lr_now = _lr_at(cfg, epoch + it / cfg.epoch_size)
            for g in opt_g.param_groups:
                g["lr"] = lr_now
            if opt_d:
                for g in opt_d.param_groups:
                    g["lr"] = lr_now
            lr_np, hr_np, periods = next(stream)
            x = torch.from_numpy(lr_np).to(device).permute(0, 3, 1, 2).float().div_(255.0)
            y = torch.from_numpy(hr_np).to(device).permute(0, 3, 1, 2).float().div_(255.0)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                out = gen(x)
            out = out.float()  # the losses in fp32 whatever the forward pass ran in
            losses: dict[str, torch.Tensor] = {}
            if cfg.pixel_weight > 0:
                pix = F.l1_loss if cfg.pixel_loss == "l1" else F.mse_loss
                if cfg.tone_sigma > 0:
                    sigma: float | list[float] = cfg.tone_sigma
                    if cfg.tone_at_period:
                        sigma = [cfg.tone_sigma if p is None else min(cfg.tone_sigma, sigma_for(p)) for p in periods]
                    pl = pix(_tone_kept(out, x, sigma), y) + 0.1 * pix(out, y)
                else:
                    pl = pix(out, y)
                losses["pixel"] = cfg.pixel_weight * pl
            if feats is not None:
                losses["perceptual"] = cfg.perceptual_weight * F.mse_loss(feats(out), feats(y).detach())
            if cfg.smoothness_weight > 0:
                losses["smooth"] = cfg.smoothness_weight * 1e-8 * _tv(out)
            if disc is not None and epoch >= cfg.adversarial_start:
                losses["adversarial"] = cfg.adversary_weight * 1e-5 * F.softplus(-disc(out)).mean()
            if epoch >= cfg.generator_start and losses:
                total = sum(losses.values())
                opt_g.zero_grad(set_to_none=True)
                total.backward()
                opt_g.step()
            if disc is not None and epoch >= cfg.discriminator_start:
                d_loss = F.softplus(-disc(y)).mean() + F.softplus(disc(out.detach())).mean()
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
                losses["discriminator"] = d_loss
            iteration += 1
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            if progress and (it % 10 == 0 or it == cfg.epoch_size - 1):
                progress(TrainProgress(epoch + 1, cfg.epochs, it + 1, cfg.epoch_size,
                                       {k: v / (it + 1) for k, v in sums.items()}, lr_now, time.time() - t0))
            if should_stop is not None and should_stop():
                stopped = True
                break
        if stopped:
            checkpoint(epoch)
            break
        mean = {k: v / cfg.epoch_size for k, v in sums.items()}
        log.debug("epoch %d/%d %s", epoch + 1, cfg.epochs, " ".join(f"{k}={v:.5f}" for k, v in mean.items()))
        if progress:
            progress(TrainProgress(epoch + 1, cfg.epochs, cfg.epoch_size, cfg.epoch_size, mean,
                                   _lr_at(cfg, epoch + 1), time.time() - t0, epoch_done=True))
        if (epoch + 1) % max(1, cfg.save_every) == 0 or epoch + 1 == cfg.epochs:
            checkpoint(epoch + 1)
    if not Path(output).exists():
        checkpoint(start_epoch)
    return Path(output)


def _loss_names(cfg: TrainConfig) -> list[str]:
    names = []
    if cfg.pixel_weight > 0:
        names.append(f"pixel-{cfg.pixel_loss}" + (f"-tone-kept-{cfg.tone_sigma:g}" + ("-at-period" if cfg.tone_at_period else "") if cfg.tone_sigma > 0 else ""))
    if cfg.perceptual_weight > 0:
        names.append(f"perceptual-{cfg.perceptual_layer}")
    if cfg.smoothness_weight > 0:
        names.append("smoothness")
    if cfg.adversary_weight > 0:
        names.append("adversarial")
    return names
