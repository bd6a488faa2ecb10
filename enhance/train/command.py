"""``enhance --train``: train a generator or a RAISR filter set on your own images.

The model is written to the current folder as ``ne{zoom}x-{type}-{name}.safetensors``, where
``enhance --zoom={zoom} --model={name}`` finds it at once. Generator runs keep checkpoints in
``.enhance-runs/``: an interrupted run resumes, and a new run with the same name starts from
the model already there (fine-tuning), as Neural Enhance's two-step recipe expects.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..errors import EnhanceError, InputError
from ..image import ImageMeta, open_image, prepare_for_format

log = logging.getLogger(__name__)

__all__ = ["run_training", "load_training_images"]


def _to_rgb8(pixels: np.ndarray, meta: ImageMeta) -> np.ndarray:
    """Any layout and depth -> ``(H, W, 3)`` uint8 RGB, through image.py's own conversions."""
    pixels, meta, _ = prepare_for_format(pixels, meta, "png")  # CMYK -> sRGB
    pixels, meta, _ = prepare_for_format(pixels, meta, "jpeg")  # 16 -> 8 bit, alpha onto white
    if meta.layout == "L":
        pixels = np.repeat(pixels[:, :, :1], 3, axis=2)
    return np.ascontiguousarray(pixels)


def load_training_images(patterns: list[str], min_side: int = 32) -> tuple[list[np.ndarray], list[str]]:
    """Read training images as RGB uint8; unreadable or tiny files are reported and skipped.

    Returns:
        The images, and one error line per skipped file.
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
        images.append(_to_rgb8(pixels, meta))
    return images, errors


def _train_raisr(args: argparse.Namespace, images: list[np.ndarray], out: Path, quiet: bool) -> None:
    from ..models.raisr import jpeg_damage, recommended_config, train_filters

    scale = args.scales
    damage = None
    if scale == 1 or args.train_jpeg or args.train_noise:
        lo = int(args.train_jpeg or 10)
        noise = float(args.train_noise or 0.0) * (255.0 if args.train_noise and args.train_noise < 1 else 1.0)
        damage = jpeg_damage(np.random.default_rng(args.seed), (lo, max(lo, 60)), noise, 1.0)
    t0 = time.time()
    cfg = recommended_config(scale)
    bar = _bar(len(images) * (2 if cfg.refine_patch else 1), f"training raisr x{scale}", quiet)
    model = train_filters(images, cfg, damage, args.seed, lambda d, _t: bar(d))
    model.save(str(out), {"name": args.model, "type": args.type or "photo",
                          "trained": f"{len(images)} images in {time.time() - t0:.0f} s"})


def _bar(total: int, label: str, quiet: bool):  # type: ignore[no-untyped-def]
    if quiet or not sys.stderr.isatty():
        state = {"last": -1}

        def plain(done: int) -> None:
            pct = int(100 * done / max(1, total))
            if not quiet and pct // 10 != state["last"]:
                state["last"] = pct // 10
                print(f"{label}: {pct}%", file=sys.stderr)

        return plain
    from rich.progress import Progress

    prog = Progress(transient=True)
    task = prog.add_task(label, total=total)
    prog.start()

    def update(done: int) -> None:
        prog.update(task, completed=done)
        if done >= total:
            prog.stop()

    return update


def _train_generator(args: argparse.Namespace, images: list[np.ndarray], out: Path, quiet: bool) -> None:
    from ..models.generator import GeneratorConfig
    from .loop import TrainConfig, TrainProgress, train

    scale = args.generator_upscale or args.scales
    if args.generator_upscale and args.generator_upscale != args.scales:
        raise EnhanceError(f"--generator-upscale={args.generator_upscale} contradicts --scales={args.scales}")
    layer = args.perceptual_layer
    perceptual_weight = args.perceptual_weight if args.perceptual_weight is not None else (1.0 if layer else 0.0)
    degradation = args.train_degradation or ("print" if args.type == "print" else "repair" if scale == 1 else "bicubic")
    cfg = TrainConfig(
        scale=scale, type=args.type or "photo", epochs=args.epochs, epoch_size=args.epoch_size,
        batch_size=args.batch_size, batch_shape=args.batch_shape - args.batch_shape % scale,
        learning_rate=args.learning_rate, learning_period=args.learning_period, learning_decay=args.learning_decay,
        pixel_weight=args.pixel_weight if args.pixel_weight is not None else 1.0,
        perceptual_layer=layer or "conv2_2", perceptual_weight=perceptual_weight,
        smoothness_weight=args.smoothness_weight, adversary_weight=args.adversary_weight,
        generator_start=args.generator_start, discriminator_start=args.discriminator_start,
        adversarial_start=args.adversarial_start, discriminator_size=args.discriminator_size,
        degradation=degradation, train_blur=args.train_blur, train_noise=args.train_noise, train_jpeg=args.train_jpeg,
        train_scales=args.train_scales, save_every=args.save_every, device=args.device, seed=args.seed,
        generator=GeneratorConfig(scale=scale, blocks=args.generator_blocks, filters=args.generator_filters,
                                  downscale=args.generator_downscale, residual=bool(args.generator_residual)),
    )
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise EnhanceError("--device cuda asked for, but no CUDA device is available")
    run_dir = Path(".enhance-runs") / out.stem
    init = out if out.exists() else None
    if init is not None:
        from ..models.generator import load_generator

        _m, meta = load_generator(str(out))
        have = GeneratorConfig.from_json(meta["config"])
        if have != cfg.generator:
            # more residual blocks on the same model: grown, the new blocks starting as identities
            if replace(have, blocks=cfg.generator.blocks) == cfg.generator and cfg.generator.blocks > have.blocks:
                log.info("growing %s from %d to %d residual blocks", out, have.blocks, cfg.generator.blocks)
                if not quiet:
                    print(f"growing {out} from {have.blocks} to {cfg.generator.blocks} residual blocks "
                          "(the new ones start as identities)", file=sys.stderr)
            else:
                raise EnhanceError(f"{out} exists with other --generator-* settings (only more --generator-blocks "
                                   "can grow it); pick another --model name or delete it")

    def report(p: TrainProgress) -> None:
        if p.epoch_done and not quiet:
            losses = " ".join(f"{k}={v:.5f}" for k, v in p.losses.items())
            print(f"epoch {p.epoch}/{p.epochs}  {losses}  lr={p.learning_rate:.2e}  ({p.seconds:.0f} s)", file=sys.stderr)

    train(images, cfg, run_dir, out, init_from=init, progress=report,
          metadata={"name": args.model, "config_train": _json(asdict(cfg))})


def _json(d: dict) -> str:  # type: ignore[type-arg]
    import json

    return json.dumps(d, default=str, sort_keys=True)


def run_training(args: argparse.Namespace) -> int:
    """Run ``enhance --train`` from parsed command-line arguments; returns the exit status."""
    name = args.model
    if not name or name in ("default", "repair", "raisr", "descreen", "bicubic", "lanczos"):
        print("enhance: error: --train needs --model NAME (not a shipped model's name)", file=sys.stderr)
        return 2
    if not all(c.isalnum() or c in "_." for c in name):
        print(f"enhance: error: model name {name!r} may use letters, digits, '_' and '.' only", file=sys.stderr)
        return 2
    typ = args.type or "photo"
    out = Path(f"ne{args.scales}x-{typ}-{name}.safetensors")
    images, errors = load_training_images(args.train)
    for e in errors:
        print(f"enhance: error: {e}", file=sys.stderr)
    if not images:
        print("enhance: error: no usable training images", file=sys.stderr)
        return 1
    mp = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    if not args.quiet:
        print(f"training {args.arch} x{args.scales} '{name}' on {len(images)} images ({mp:.1f} MP) -> {out}", file=sys.stderr)
    t0 = time.time()
    try:
        if args.arch == "raisr":
            _train_raisr(args, images, out, args.quiet)
        else:
            _train_generator(args, images, out, args.quiet)
    except ValueError as exc:  # e.g. every image smaller than the patch
        print(f"enhance: error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"wrote {out} in {time.time() - t0:.0f} s; use it with: enhance --zoom={args.scales} --model={name} FILES",
              file=sys.stderr)
    return 1 if errors else 0
