"""Train your own model on your own images: what ``enhance --train`` runs.

The model is written to ``options.output_dir`` (the current folder by default) as
``ne{zoom}x-{type}-{name}.safetensors``, where ``enhance --zoom={zoom} --model={name}`` finds it
at once. Generator runs keep checkpoints in ``.enhance-runs/``: an interrupted run resumes, and
a new run with the same name starts from the model already there (fine-tuning), as Neural
Enhance's two-step recipe expects.

Nothing here prints: :func:`train_model` reports through a callback of :class:`TrainingEvent`
(the ``enhance`` command renders them) and raises :class:`~enhance.errors.EnhanceError` for a
request it cannot carry out.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import EnhanceError, InputError
from ..image import open_image, to_display_rgb8

log = logging.getLogger(__name__)

__all__ = ["TrainingOptions", "TrainingEvent", "TrainingResult", "train_model", "load_training_images"]


@dataclass(frozen=True)
class TrainingOptions:
    """What to train, on what (the ``--train`` flags; Neural Enhance's names).

    Attributes:
        train: file names or quoted globs of the training images.
        model: the new model's name (not a shipped one's).
        arch: "generator" (a CNN) or "raisr" (hashed filters, minutes on a laptop).
        scales: the zoom the model is trained for, 1 to 4.
        type: content type it serves ("photo" when None; "print" trains a descreener on
            simulated prints of the images).
        output_dir: folder the model file is written to.
        The rest are the generator's and its training loop's settings (see
        :class:`~enhance.train.loop.TrainConfig`); ``None`` means the loop's default.
    """

    train: tuple[str, ...]
    model: str
    arch: str = "generator"
    scales: int = 2
    type: str | None = None
    output_dir: Path = Path(".")
    epochs: int = 10
    epoch_size: int = 72
    batch_size: int = 15
    batch_shape: int = 96
    learning_rate: float = 1e-4
    learning_period: int = 75
    learning_decay: float = 0.5
    pixel_weight: float | None = None
    perceptual_layer: str | None = None
    perceptual_weight: float | None = None
    smoothness_weight: float = 0.0
    adversary_weight: float = 0.0
    generator_start: int = 0
    discriminator_start: int = 1
    adversarial_start: int = 2
    discriminator_size: int = 32
    generator_blocks: int = 4
    generator_filters: int = 64
    generator_upscale: int | None = None
    generator_downscale: int = 0
    generator_residual: int = 1
    train_blur: float | None = None
    train_noise: float | None = None
    train_jpeg: int | None = None
    train_scales: int = 0
    train_degradation: str | None = None
    save_every: int = 10
    device: str = "cpu"
    seed: int = 0

    @property
    def output(self) -> Path:
        """The model file: ``ne{scales}x-{type}-{model}.safetensors`` in :attr:`output_dir`."""
        return self.output_dir / f"ne{self.scales}x-{self.type or 'photo'}-{self.model}.safetensors"


@dataclass(frozen=True)
class TrainingEvent:
    """A report from :func:`train_model`.

    Attributes:
        kind: "skipped" (a file that cannot be trained on; ``message`` says why), "start",
            "note", "step" (``done`` of ``total``: images of a RAISR fit, or iterations of a
            generator's run, with its running losses), "epoch" (a generator epoch ended: its
            number, losses, learning rate and seconds so far) or "done".
        message: one line for the user ("skipped", "start", "note", "done").
    """

    kind: str
    message: str = ""
    done: int = 0
    total: int = 0
    epoch: int = 0
    epochs: int = 0
    losses: dict[str, float] | None = None
    learning_rate: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced: the model file (None when nothing could be trained on),
    the files it skipped (one line each) and how long it took."""

    output: Path | None
    skipped: tuple[str, ...]
    seconds: float


def load_training_images(patterns: list[str], min_side: int = 32) -> tuple[list[np.ndarray], list[str]]:
    """Read training images as ``(H, W, 3)`` uint8 RGB; unreadable or tiny files are skipped.

    Returns:
        The images, and one line per skipped file.
    """
    from ..batch import expand_inputs

    files, missing = expand_inputs(patterns)
    errors = [r.message for r in missing]
    images = []
    for f in files:
        try:
            pixels, meta = open_image(f)
        except InputError as exc:
            errors.append(str(exc))
            continue
        if min(pixels.shape[:2]) < min_side:
            errors.append(f"{f}: too small to train on ({pixels.shape[1]}x{pixels.shape[0]})")
            continue
        images.append(to_display_rgb8(pixels, meta))
    return images, errors


def _check_name(name: str) -> None:
    from ..models.registry import list_models

    taken = {e.name for e in list_models() if e.origin in ("builtin", "shipped")}
    if not name or name in taken:
        raise EnhanceError("--train needs --model NAME (not a shipped model's name)")
    if not all(c.isalnum() or c in "_." for c in name):
        raise EnhanceError(f"model name {name!r} may use letters, digits, '_' and '.' only")


def train_model(options: TrainingOptions, report: Callable[[TrainingEvent], None] | None = None) -> TrainingResult:
    """Train the model ``options`` describe and write it to :attr:`TrainingOptions.output`.

    Args:
        options: what to train, on what.
        report: receives :class:`TrainingEvent` reports.

    Returns:
        The model file, and the files skipped.

    Raises:
        EnhanceError: an unusable request (a shipped or malformed name, contradicting or
            changed ``--generator-*`` settings, CUDA asked for without a GPU).
        InputError: the images cannot be trained on (every one smaller than the patch).
    """
    emit = report or (lambda ev: None)
    _check_name(options.model)
    images, skipped = load_training_images(list(options.train))
    for line in skipped:
        emit(TrainingEvent("skipped", line))
    if not images:
        emit(TrainingEvent("skipped", "no usable training images"))
        return TrainingResult(None, tuple(skipped), 0.0)
    out = options.output
    mp = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    emit(TrainingEvent("start", f"training {options.arch} x{options.scales} '{options.model}' on {len(images)} "
                                f"images ({mp:.1f} MP) -> {out}"))
    t0 = time.time()
    try:
        if options.arch == "raisr":
            _train_raisr(options, images, out, emit)
        else:
            _train_generator(options, images, out, emit)
    except ValueError as exc:  # e.g. every image smaller than the patch
        raise InputError(str(exc)) from None
    seconds = time.time() - t0
    where = "this folder" if out.parent.resolve() == Path.cwd().resolve() else str(out.parent)
    # models of one's own are looked up in the current folder only
    emit(TrainingEvent("done", f"wrote {out} in {seconds:.0f} s; use it with: enhance --zoom={options.scales} "
                               f"--model={options.model} FILES (run from {where}, which holds it)", seconds=seconds))
    return TrainingResult(out, tuple(skipped), seconds)


def _train_raisr(o: TrainingOptions, images: list[np.ndarray], out: Path, emit: Callable[[TrainingEvent], None]) -> None:
    from .raisr import jpeg_damage, recommended_config, train_filters

    scale = o.scales
    damage = None
    if scale == 1 or o.train_jpeg or o.train_noise:
        lo = int(o.train_jpeg or 10)
        noise = float(o.train_noise or 0.0) * (255.0 if o.train_noise and o.train_noise < 1 else 1.0)
        damage = jpeg_damage(np.random.default_rng(o.seed), (lo, max(lo, 60)), noise, 1.0)
    t0 = time.time()
    cfg = recommended_config(scale)
    total = len(images) * (2 if cfg.refine_patch else 1)
    model = train_filters(images, cfg, damage, o.seed, lambda d, _t: emit(TrainingEvent("step", done=d, total=total)))
    model.save(str(out), {"name": o.model, "type": o.type or "photo",
                          "trained": f"{len(images)} images in {time.time() - t0:.0f} s"})


def _train_generator(o: TrainingOptions, images: list[np.ndarray], out: Path,
                     emit: Callable[[TrainingEvent], None]) -> None:
    from ..models.generator_config import GeneratorConfig

    try:
        from .loop import TrainConfig, TrainProgress, train
    except ImportError as exc:  # torch (or the feature network's wheel) missing: the `train` extra
        raise EnhanceError(f"training a generator needs the train extra ({exc.name or exc}): "
                           "pip install 'enhance[train]' (--arch raisr trains without it)") from None

    scale = o.generator_upscale or o.scales
    if o.generator_upscale and o.generator_upscale != o.scales:
        raise EnhanceError(f"--generator-upscale={o.generator_upscale} contradicts --scales={o.scales}")
    layer = o.perceptual_layer
    perceptual_weight = o.perceptual_weight if o.perceptual_weight is not None else (1.0 if layer else 0.0)
    degradation = o.train_degradation or ("print" if o.type == "print" else "repair" if scale == 1 else "bicubic")
    cfg = TrainConfig(
        scale=scale, type=o.type or "photo", epochs=o.epochs, epoch_size=o.epoch_size,
        batch_size=o.batch_size, batch_shape=o.batch_shape - o.batch_shape % scale,
        learning_rate=o.learning_rate, learning_period=o.learning_period, learning_decay=o.learning_decay,
        pixel_weight=o.pixel_weight if o.pixel_weight is not None else 1.0,
        perceptual_layer=layer or "conv2_2", perceptual_weight=perceptual_weight,
        smoothness_weight=o.smoothness_weight, adversary_weight=o.adversary_weight,
        generator_start=o.generator_start, discriminator_start=o.discriminator_start,
        adversarial_start=o.adversarial_start, discriminator_size=o.discriminator_size,
        degradation=degradation, train_blur=o.train_blur, train_noise=o.train_noise, train_jpeg=o.train_jpeg,
        train_scales=o.train_scales, save_every=o.save_every, device=o.device, seed=o.seed,
        generator=GeneratorConfig(scale=scale, blocks=o.generator_blocks, filters=o.generator_filters,
                                  downscale=o.generator_downscale, residual=bool(o.generator_residual)),
    )
    if o.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise EnhanceError("--device cuda asked for, but no CUDA device is available")
    run_dir = o.output_dir / ".enhance-runs" / out.stem
    init = out if out.exists() else None
    if init is not None:
        from ..models.weightfile import read_header

        header = read_header(out)
        if header.get("arch") != "generator" or "config" not in header:
            raise EnhanceError(f"{out} exists and is not a generator model; pick another --model name or delete it")
        have = GeneratorConfig.from_json(header["config"])
        if have != cfg.generator:
            # more residual blocks on the same model: grown, the new blocks starting as identities
            if replace(have, blocks=cfg.generator.blocks) == cfg.generator and cfg.generator.blocks > have.blocks:
                log.info("growing %s from %d to %d residual blocks", out, have.blocks, cfg.generator.blocks)
                emit(TrainingEvent("note", f"growing {out} from {have.blocks} to {cfg.generator.blocks} residual "
                                           "blocks (the new ones start as identities)"))
            else:
                raise EnhanceError(f"{out} exists with other --generator-* settings (only more --generator-blocks "
                                   "can grow it); pick another --model name or delete it")

    def on_progress(p: TrainProgress) -> None:
        done = (p.epoch - 1) * p.iterations_per_epoch + p.iteration
        kind = "epoch" if p.epoch_done else "step"
        emit(TrainingEvent(kind, done=done, total=p.epochs * p.iterations_per_epoch, epoch=p.epoch, epochs=p.epochs,
                           losses=dict(p.losses), learning_rate=p.learning_rate, seconds=p.seconds))

    train(images, cfg, run_dir, out, init_from=init, progress=on_progress,
          metadata={"name": o.model, "config_train": json.dumps(asdict(cfg), default=str, sort_keys=True)})
