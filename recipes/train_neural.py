"""Reproduce the shipped neural models (``default`` x2/x3/x4 and ``repair`` x1).

    python -m recipes.build_corpus data/corpus
    python -m recipes.train_neural --corpus data/corpus all

Each stage trains in runs/<model> with checkpoints (an interrupted run resumes where it
stopped) and, once finished, writes src/enhance/models/weights/<file>.safetensors. The x3, x4 and repair models
start from the x2 model's body (fine-tuning), which converges far faster than from scratch.
Stages print one line per epoch to stderr.

How the shipped weights were made (2 CPU cores, sharing them with other work): default-x2 ran
the 70-epoch cosine schedule below and was stopped after epoch 61 (12,200 iterations, learning
rate already down to 2e-5) for lack of session time; the x4, repair and x3 fine-tunes then ran
4 epochs (800 iterations) each from it. Running this script unchanged trains the full schedule.
The later cycles (repair-x1-more, default-x2-more/-third, default-x4-more/-third/-fourth, print-x1-more/-third/.../-ninth) each
continue from the shipped weights of their model; default-x2-deep and default-x4-deep grow the x2 and x4 models
to 9 and 12 residual blocks (the new blocks start as identities), and their later stages (-more, -third) train them further; BENCHMARKS.md lists every run with its time.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from enhance.models.weightfile import publish, read_header
from enhance.models.generator import GeneratorConfig
from enhance.models.generator_config import bf16_supported
from enhance.models.tone import SIGMA
from recipes.corpus import corpus_megapixels, kind_weights, load_corpus
from enhance.train.loop import TrainConfig, TrainProgress, train

WEIGHTS = "src/enhance/models/weights"
#: share of training crops per corpus kind (photos are scarce but matter most)
SHARES = {"photo": 0.5, "art": 0.25, "clipart": 0.25}
BASE = TrainConfig(
    epochs=70, epoch_size=200, batch_size=16, batch_shape=96, learning_rate=5e-4, schedule="cosine",
    pixel_loss="l1", pixel_weight=1.0, degradation="bicubic", save_every=1, threads=2, seed=1,
    generator=GeneratorConfig(scale=2, blocks=6, filters=48, residual=True),
)
#: the descreener's network (``--type=print``, x1)
PRINT_GENERATOR = GeneratorConfig(scale=1, blocks=6, filters=64, downscale=2, residual=False)


def _print_cycle(epochs: int, lr: float, degradation: str, seed: int,
                 tone_sigma: float = 0.0, tone_at_period: bool = False) -> tuple[TrainConfig, str, str | None]:
    """A further cosine cycle of the descreener, from its shipped weights."""
    return (replace(BASE, scale=1, type="print", epochs=epochs, batch_shape=128, learning_rate=lr,
                    degradation=degradation, seed=seed, generator=PRINT_GENERATOR, tone_sigma=tone_sigma,
                    tone_at_period=tone_at_period),
            "print-x1.safetensors", "print-x1")


def _repair_cycle(epochs: int, lr: float, seed: int, blocks: int = 12, batch: tuple[int, int] = (16, 48)
                  ) -> tuple[TrainConfig, str, str | None]:
    """A cosine cycle of the repair model (MSE, pages of type), from its shipped weights;
    ``blocks`` residual blocks (more than the shipped file has: grown), ``batch`` patches of px."""
    return (replace(BASE, scale=1, epochs=epochs, batch_size=batch[0], batch_shape=batch[1], learning_rate=lr,
                    seed=seed, pixel_loss="mse", degradation="repair-text",
                    generator=replace(BASE.generator, scale=1, blocks=blocks)),
            "repair-x1.safetensors", "repair-x1")


def _variant(scale: int, blocks: int, epochs: int, lr: float, seed: int,
                  init: str, degradation: str = "bicubic-jpeg-text", type: str = "jpeg") -> tuple[TrainConfig, str, str | None]:
    """A cosine cycle of a variant of ``default`` at ``scale`` (its own file): by default the JPEG
    variant on the x2 JPEG variant's recipe (LR saved as JPEG at quality 20-95, pages of type,
    MSE, 64 px LR patches), from stage ``init``; ``degradation`` names another preset, ``type``
    another variant."""
    return (replace(BASE, scale=scale, type=type, epochs=epochs, batch_shape=64 * scale, learning_rate=lr,
                    seed=seed, pixel_loss="mse", degradation=degradation,
                    generator=replace(BASE.generator, scale=scale, blocks=blocks)),
            f"default-x{scale}-{type}.safetensors", init)


def _text_cycle(scale: int, blocks: int, epochs: int, batch_shape: int, lr: float, seed: int,
                degradation: str = "bicubic-text") -> tuple[TrainConfig, str, str | None]:
    """A cosine cycle of ``default`` at ``scale`` on the text recipe (MSE, an eighth of the crops
    pages of type; ``degradation`` names another preset), ``blocks`` residual blocks, HR patches of
    ``batch_shape`` px, from its shipped weights."""
    return (replace(BASE, scale=scale, epochs=epochs, batch_shape=batch_shape, learning_rate=lr, seed=seed,
                    pixel_loss="mse", degradation=degradation,
                    generator=replace(BASE.generator, scale=scale, blocks=blocks)),
            f"default-x{scale}.safetensors", f"default-x{scale}")


def _bf16(stage: tuple[TrainConfig, str, str | None]) -> tuple[TrainConfig, str, str | None]:
    """``stage`` with its forward pass under bf16 autocast (session 23 on: about half the fp32
    time per iteration on CPUs with AVX512-BF16; BENCHMARKS.md compares the two)."""
    return replace(stage[0], precision="bf16"), stage[1], stage[2]


STAGES: dict[str, tuple[TrainConfig, str, str | None]] = {
    "default-x2": (BASE, "default-x2.safetensors", None),
    "default-x4": (replace(BASE, scale=4, epochs=4, batch_shape=192, learning_rate=3e-4,
                           generator=replace(BASE.generator, scale=4)), "default-x4.safetensors", "default-x2"),
    "repair-x1": (replace(BASE, scale=1, epochs=4, batch_shape=48, learning_rate=3e-4, degradation="repair",
                          generator=replace(BASE.generator, scale=1)), "repair-x1.safetensors", "default-x2"),
    "default-x3": (replace(BASE, scale=3, epochs=4, batch_shape=144, learning_rate=3e-4,
                           generator=replace(BASE.generator, scale=3)), "default-x3.safetensors", "default-x2"),
    # more repair training from the shipped repair weights (4 epochs were too few: +1.07 dB)
    "repair-x1-more": (replace(BASE, scale=1, epochs=25, batch_shape=48, learning_rate=2e-4, degradation="repair",
                               generator=replace(BASE.generator, scale=1)), "repair-x1.safetensors", "repair-x1"),
    # the repair model's gain had flattened at +1.38 dB (L1 loss 0.0119) with a 14 px receptive
    # radius, less than two JPEG blocks: grown to 12 blocks (26 px; the new blocks start as
    # identities), on MSE (what PSNR measures) with an eighth of the crops pages of type. (The
    # descreener's 60 px network fine-tuned to repair from its weights learned far slower: +0.12 dB
    # after 7 epochs, where this stage was at +1.53, and was stopped.)
    "repair-x1-deep": _repair_cycle(28, 1.5e-4, 15),
    # and a second, lower cycle for it (its gain was still rising, +0.04 dB over its last 10 epochs)
    "repair-x1-deep-more": _repair_cycle(18, 1e-4, 17),
    # issue 20: the repair gain at q20 is +1.74 dB on the bench mean but +1.14 on photos (target
    # +1.8); a third cycle from the shipped weights with the crops drawn mostly from photos
    # (STAGE_SHARES; the corpus holds 16 more camera photos since session 18). Run in session 19
    # (20 epochs, 116 min on one thread beside benchmarks) and not shipped: gain at q20 on the bench
    # +1.744 -> +1.752 (photo +1.144 -> +1.180, line art +5.19 -> +4.95), on the unseen track
    # +2.258 -> +2.232 (photo +1.139 -> +1.170, line art +5.42 -> +5.24): photos gained 0.03 dB
    # and line art lost 0.2
    "repair-x1-photos": _repair_cycle(20, 8e-5, 34),
    # issue 20, session 24: the repair gain stopped at +1.74-1.75 dB after two cycles of the 12-block
    # model and a photo-weighted third; growing it from 6 to 12 blocks was what moved it (+0.32 dB).
    # Grown again to 18 blocks (receptive radius 26 -> 38 px, nearly five JPEG blocks), on 64 px
    # patches (12 a batch, about the pixels of 16 of 48 px) so the wider view sees whole blocks'
    # neighbours, in bf16. (Projecting the output's luma back into the JPEG's quantization bins
    # gained +0.004 dB at q20: the model's output already lies in them, so nothing there.)
    # Shipped in session 25: gain at q20 +1.744 -> +1.871 dB on the bench (photo +1.14 -> +1.23),
    # +2.258 -> +2.445 on the unseen track; 1.5 times the 12-block model's time
    "repair-x1-grow": _bf16(_repair_cycle(40, 1.5e-4, 48, blocks=18, batch=(12, 64))),
    # session 26: a second, lower cosine cycle of the 18-block model from its shipped weights (the
    # 12-block model's second cycle gained +0.04 dB over its first). Shipped in session 26 (35.0 min):
    # gain at q20 +1.871 -> +1.879 dB on the bench (photo +1.23 -> +1.23), +2.445 -> +2.453 unseen
    "repair-x1-grow-more": _bf16(_repair_cycle(16, 6e-5, 53, blocks=18, batch=(12, 64))),
    # a second cosine cycle for x2 from its shipped weights (its first run stopped at 12,200
    # iterations; the x4 cycles gained +0.15, +0.06, +0.01 dB)
    "default-x2-more": (replace(BASE, epochs=32, learning_rate=2e-4, seed=2), "default-x2.safetensors", "default-x2"),
    # a third, longer one (the second gained 0.15 dB: 31.80 -> 31.95)
    "default-x2-third": (replace(BASE, epochs=48, learning_rate=1.5e-4, seed=3), "default-x2.safetensors", "default-x2"),
    # a deeper x2 (9 residual blocks instead of 6), grown from the shipped x2 (new blocks start as
    # identities): 1.4 times the model's time, which the whole command can afford beside cunet's
    "default-x2-deep": (replace(BASE, epochs=32, learning_rate=1.5e-4, seed=6,
                                generator=replace(BASE.generator, blocks=9)), "default-x2.safetensors", "default-x2"),
    # a second cycle for the deepened x2 (the first gained 0.09 dB), run beside default-x4-deep-more,
    # one torch thread each
    "default-x2-deep-more": (replace(BASE, epochs=24, learning_rate=1e-4, seed=7,
                                     generator=replace(BASE.generator, blocks=9)), "default-x2.safetensors", "default-x2"),
    # a third cycle for the deepened x2 with three changes, since the second (same data, L1, 48 px
    # patches) gained nothing: an eighth of the crops synthetic pages of type (the corpus holds
    # almost no text, which scanned books are full of), LR patches of 64 px instead of 48 (fewer
    # pixels near a zero-padded edge), and an MSE pixel loss (the quantity PSNR measures)
    "default-x2-text": _text_cycle(2, 9, 30, 128, 1e-4, 10),
    # tried in session 9, not shipped: a second, lower cycle of the text recipe for x2 (one thread
    # beside other work, 12-19 min an epoch; stopped after 7 of 8 epochs, the learning rate at 3e-6)
    # stayed within 0.006 dB of the shipped x2 on the bench mean (32.493, 32.494, 32.496 after epochs
    # 4, 6, 7), scanned text up to +0.11, line art down 0.08-0.32 (BENCHMARKS.md)
    "default-x2-text-more": _text_cycle(2, 9, 8, 128, 7e-5, 20),
    # issue 20: the shipped x2 on aliased LR (point-sampled: 23.91 dB against Pillow bicubic's 26.68) sharpens
    # the aliasing into structure; the text recipe with 30 % of the LR box-reduced or point-sampled
    "default-x2-aliased": _text_cycle(2, 9, 16, 128, 7e-5, 21, "bicubic-aliased-text"),
    # session 20: a third of that share of aliased LR (5 % box, 5 % point), from the shipped x2 at a
    # lower peak rate: three epochs of the 30 % recipe took point-sampled LR past Pillow bicubic
    # (23.91 -> 26.83 dB) but cost the protocol 0.53 dB. Run (6 epochs, 37.2 min on one thread) and
    # not shipped: point-sampled LR 23.93 -> 25.45 (Pillow bicubic 26.68), box-reduced 30.57 ->
    # 31.04, but the bench 32.534 -> 32.450 with line art 31.94 -> 31.15, and the unseen track
    # 40.596 -> 40.274 (line art 42.69 -> 41.04): a native-resolution render of line art is as
    # sharp as an aliased reduction, and the network softens both
    "default-x2-aliased-light": _text_cycle(2, 9, 6, 128, 5e-5, 35, "bicubic-aliased-light-text"),
    # session 25: so an aliased scan is a type the user names (--type=aliased), with a variant of
    # its own trained mostly on aliased LR (`aliased-text`: 40 % box-reduced, 40 % point-sampled,
    # half of them after a slight optics blur), from the shipped x2, in bf16. Shipped in session 25
    # (70.5 min, part of it beside a second run): on the aliased track point-sampled LR 23.93 ->
    # 28.20 dB (Pillow bicubic 26.68), the held-out scanner 27.36 -> 28.46, box 30.57 -> 31.10,
    # the protocol's antialiased LR 32.53 -> 31.56 (which is why it is a type the user names)
    "default-x2-aliased-variant": _bf16(_variant(2, 9, 20, 1e-4, 49, "default-x2", "aliased-text", "aliased")),
    # and the same for x3 and x4 (a publisher's 3x asset from a low-dpi scan), from their shipped weights.
    # x3 shipped in session 25 (53.7 min): point-sampled LR 23.33 -> 26.08 dB (Pillow bicubic 25.70),
    # box 27.99 -> 28.49, the held-out scanner 28.56 -> 28.43, antialiased 29.07 -> 28.69. x4 shipped in
    # session 26 (46.9 min), against the light blur it replaces: point-sampled 22.51 -> 24.53 dB (plain
    # 21.42, Pillow bicubic 23.75), box 26.69 -> 26.92, the held-out scanner 25.91 -> 26.20 (plain 26.06)
    "default-x3-aliased-variant": _bf16(_variant(3, 9, 16, 1e-4, 50, "default-x3", "aliased-text", "aliased")),
    "default-x4-aliased-variant": _bf16(_variant(4, 12, 16, 1e-4, 51, "default-x4", "aliased-text", "aliased")),
    # issue 20: x2 trails cunet most on line art (31.79 against 33.33 dB) and the corpus's line art
    # (openclipart renders) had a quarter of the crops; the text recipe with two fifths of them
    # clip-art (STAGE_SHARES), from the shipped x2. Run in session 17 (38.7 min on one thread) and
    # shipped: bench mean 32.490 -> 32.522, line art +0.19, scanned text +0.07, texture -0.08
    "default-x2-lineart": _text_cycle(2, 9, 7, 128, 1e-4, 30),
    # x2 trails cunet most in photos among the big classes (31.80 against 32.37 dB) and the
    # corpus held 77 "photo" files, many of them digital art: session 18 added the 16 camera
    # photos of lomiri-wallpapers-16.04 (recipes.corpus.APT_PACKAGES); the line-art cycle again
    # from the shipped x2 on that corpus. Run in session 18, scored and shipped in session 19:
    # unseen track 40.551 -> 40.596 dB, every class up; public bench 32.522 -> 32.534
    "default-x2-photos": _text_cycle(2, 9, 7, 128, 1e-4, 33),
    # the x2 model's JPEG variant (type "jpeg": what `enhance --zoom=2 small.jpg` runs on a
    # compressed file), fine-tuned from the shipped x2: LR saved as JPEG at quality 20-95, a tenth
    # clean; the repair-then-enlarge chain trailed waifu2x's joint denoise-and-enlarge models
    "default-x2-jpeg": (replace(BASE, type="jpeg", epochs=24, learning_rate=1.5e-4, seed=11, degradation="bicubic-jpeg",
                                generator=replace(BASE.generator, blocks=9)), "default-x2-jpeg.safetensors", "default-x2"),
    # the JPEG variant again, grown from the text-trained x2 (the first was fine-tuned from the x2
    # before its text cycle), with pages of type among the crops and an MSE loss
    "default-x2-jpeg-text": _variant(2, 9, 16, 1.5e-4, 16, "default-x2"),
    # issue 20: on the JPEG track x2 trails cunet's best denoise level by 0.33-0.60 dB, most on line
    # art (1.3-2.1 dB at every quality): a third cycle of the variant from its shipped weights with
    # the line-art stages' shares (two fifths of the crops clip-art, the corpus's camera photos).
    # Run in session 20 (12 epochs, 68.7 min on one thread beside benchmarks) and shipped: JPEG
    # track, what the command does at q30/50/70/85, 28.25 / 29.28 / 30.02 / 30.77 -> 28.31 / 29.33
    # / 30.05 / 30.77 (line art +0.15 to +0.29, scanned text +0.07 to +0.12, photo -0.04 to
    # +0.03); the unseen track's images saved small as JPEG +0.10 / +0.10 / +0.09 / +0.06 (q95,
    # where the command runs the plain x2, +0.03), line art +0.16 to +0.32
    "default-x2-jpeg-lineart": _variant(2, 9, 12, 1e-4, 36, "default-x2-jpeg-text"),
    # issue 20: a JPEG variant for x3 (at x3 the repair-then-enlarge chain flattens a JPEG'd pencil
    # sketch's strokes into grey blobs), fine-tuned from the shipped 9-block x3 on the x2 variant's
    # recipe (LR saved as JPEG at quality 20-95 on 90 % of crops, an eighth pages of type, MSE)
    "default-x3-jpeg-text": _variant(3, 9, 10, 1.5e-4, 22, "default-x3"),
    # a second, lower cycle for the x3 variant (10 epochs left the chain ahead below quality 50)
    "default-x3-jpeg-text-more": _variant(3, 9, 8, 1e-4, 24, "default-x3-jpeg-text"),
    # tried in session 14, not shipped: a third cycle weighted toward heavy compression (quality
    # 15-80; the second left the chain ahead below 50). 10 epochs, 65 min on 1 thread: q30 26.08 ->
    # 26.19 dB, q40 26.54 -> 26.62 (the chain 26.20, 26.56), but SSIMULACRA2 still behind the chain
    # there (-10.5 vs -8.6 at q30, -2.8 vs -2.5 at q40) and lower inside the band (q70 12.2 -> 10.8,
    # q80 17.6 -> 15.2; PSNR-Y 27.45 -> 27.43, 27.81 -> 27.72): the band would not move
    "default-x3-jpeg-low": _variant(3, 9, 10, 1e-4, 25, "default-x3-jpeg-text-more", "bicubic-jpeg-low-text"),
    # the x2 variant's line-art cycle (session 20) for the x3 variant, from its shipped weights:
    # started at the end of session 20 (stopped after 4 epochs, resumed in session 21) and
    # shipped there: in the x3 band (q50-80) the bench +0.02 dB, +0.4-0.5 SSIMULACRA2, the unseen
    # images as small JPEGs +0.04-0.06 dB, +0.4-0.6 (line art +0.24)
    "default-x3-jpeg-lineart": _variant(3, 9, 10, 8e-5, 37, "default-x3-jpeg-text-more"),
    # and for x4 (session 21, started at its end; stopped after 1 epoch and resumed from its
    # checkpoint in session 22, 69.8 min on two threads beside other work): the x2 and x3 variants
    # gained 0.02-0.10 dB and line art 0.15-0.33 from the same cycle. Shipped in session 22: in
    # the x4 band (q60-85) the bench +0.04 dB, +0.5-0.6 SSIMULACRA2; the unseen images as small
    # JPEGs +0.01-0.04 dB, +0.3-0.8 (line art +0.14-0.18, illustration -0.07 to -0.12)
    "default-x4-jpeg-lineart": _variant(4, 12, 8, 8e-5, 40, "default-x4-jpeg-text"),
    # issue 20: a variant for lightly compressed files (quality 75-97), from the shipped plain x2:
    # at q85 and q95 waifu2x cunet's light-denoise level leads the command by 0.60 dB, and at q95
    # it gains 0.37 over cunet's own plain model, where the 20-95 variant loses 0.58 to ours.
    # Run in session 22 (41.3 min on one thread, beside the x4 variant's cycle and benchmarks) and
    # shipped for quality 85-93 (treatment.LIGHT_QUALITIES): bench +0.10 dB at 85 over the JPEG
    # variant, +0.22 to +0.48 at 88-93 over the plain model; unseen images +0.06 and +0.79 to +1.07
    "default-x2-jpeg-light": _variant(2, 9, 6, 6e-5, 42, "default-x2", "bicubic-jpeg-light-text", "jpeg-light"),
    # and for x3, from the shipped plain x3 (above the x3 JPEG variant's band, q80, the command ran
    # the plain x3). Run at the end of session 22 (30.8 min on one thread) and shipped for quality
    # 81-93: over the plain x3 the bench +0.14 to +0.35 dB (SSIMULACRA2 +1.7 at 83, -0.8 at 93),
    # the unseen images +0.46 to +0.68 (+0.2 to +2.6); at 80 the JPEG variant stays (-0.12 bench)
    "default-x3-jpeg-light": _variant(3, 9, 5, 6e-5, 43, "default-x3", "bicubic-jpeg-light-text", "jpeg-light"),
    # and for x4, from the shipped 12-block x4 (above the x4 JPEG variant's band, q85, the command
    # ran the plain x4), in bf16. Run in session 23 (24.1 min) and shipped for quality 83-93
    "default-x4-jpeg-light": _bf16(_variant(4, 12, 6, 6e-5, 45, "default-x4", "bicubic-jpeg-light-text",
                                                 "jpeg-light")),
    # issue 20, session 23: since the light variant took quality 85-93, the x2 JPEG variant serves
    # 84 and below, where cunet's best level still leads it by 0.28-0.39 dB; a long cycle from its
    # shipped weights on its own band (quality 20-88), in bf16 (an iteration in about half the
    # fp32 time on this CPU, BENCHMARKS.md), the line-art stages' shares. Run in session 23
    # (45.1 min) and shipped: bench +0.10 / +0.08 / +0.04 dB at q30 / 50 / 70, level at 80-84
    "default-x2-jpeg-band": _bf16(_variant(2, 9, 28, 1e-4, 44, "default-x2-jpeg-lineart", "bicubic-jpeg-band-text")),
    # and for x4, from the shipped 12-block x4 (8 epochs: what the session left after the x3 run)
    "default-x4-jpeg-text": _variant(4, 12, 8, 1.5e-4, 23, "default-x4"),
    # the same recipe for x3 and x4 (16 and 12 epochs, what the ends of sessions allowed;
    # at x2 it gained most on scanned text, +1.45 dB mid-cycle)
    "default-x3-text": _text_cycle(3, 6, 16, 192, 1e-4, 12),
    # a deeper x3 (9 residual blocks instead of 6), grown from the shipped x3 (new blocks start as
    # identities): x3 had 20 epochs of its own where x2 and x4 had over a hundred, and at x3 the
    # network runs on a ninth of the output pixels, so the depth costs little time. Session 10, one
    # thread beside other work, 13-18 min an epoch: bench mean 28.974, 29.008, 29.025 after
    # epochs 5, 6, 7 (shipped x3 28.969), every class up
    "default-x3-deep": _text_cycle(3, 9, 8, 192, 1e-4, 21),
    # a second cycle for the deepened x3 (session 15): the first (8 epochs) was still gaining at its
    # end (28.974, 29.008, 29.025 after epochs 5, 6, 7), and x3 has had far fewer epochs than x2 and x4.
    # Run in session 15 (12 epochs, 85 min on one thread) but not scored; run again in session 16
    # (82 min on one thread beside other work, final loss 0.00191) and shipped: bench mean
    # 29.023 -> 29.075, every class up (line art +0.16, scanned text +0.14)
    "default-x3-deep-more": _text_cycle(3, 9, 12, 192, 8e-5, 26),
    # a third, short cycle (session 16): the second gained 0.05 dB, every class up. Run (28.7 min on
    # one thread): bench mean 29.075 -> 29.082, line art and scanned text +0.07, but texture -0.05
    # and photo -0.01, so not shipped
    "default-x3-deep-third": _text_cycle(3, 9, 5, 192, 5e-5, 28),
    "default-x4-text": _text_cycle(4, 12, 12, 256, 1e-4, 13),
    # a second text cycle for x4 (session 16): the first gained 0.14 dB in 12 epochs (27.30 -> 27.44)
    # with its loss still falling; the same data at a lower peak rate, another seed. Run in session
    # 16 with --epochs-scale 0.5 (6 epochs, 55.9 min on one thread beside other work): bench mean
    # 27.441 -> 27.435 (line art +0.05, scanned text +0.02, photo -0.02), so not shipped
    "default-x4-text-more": _text_cycle(4, 12, 12, 256, 6e-5, 27),
    # a second line-art cycle for x2 (session 17), from the shipped default-x2-lineart: half the
    # crops clip-art, a lower peak rate. Run (17.9 min on two threads) and not shipped: bench mean
    # 32.522 -> 32.507, line art 31.98 -> 31.69, texture 40.52 -> 40.41, scanned text +0.04
    "default-x2-lineart-more": _text_cycle(2, 9, 5, 128, 5e-5, 33),
    # the line-art recipe of default-x2-lineart (two fifths of the crops clip-art) for x3 and x4,
    # from their shipped weights: x4 trails cunet on line art, illustration and photos. Run in
    # session 17, one thread each side by side, and not shipped: x3 (40.9 min) bench mean
    # 29.075 -> 29.088, line art and scanned text +0.07, texture -0.07; x4 (46.7 min) 27.441 ->
    # 27.451, line art 23.37 -> 23.48 (cunet 23.47), scanned text +0.05, but texture -0.035,
    # illustration -0.013 and photo -0.007
    "default-x3-lineart": _text_cycle(3, 9, 7, 192, 6e-5, 31),
    "default-x4-lineart": _text_cycle(4, 12, 6, 256, 6e-5, 32),
    # more x4 training from the shipped x4 weights (its first fine-tune ran only 800 iterations)
    "default-x4-more": (replace(BASE, scale=4, epochs=16, batch_shape=192, learning_rate=2e-4,
                                generator=replace(BASE.generator, scale=4)), "default-x4.safetensors", "default-x4"),
    # and a third, lower cycle (the second gave +0.15 dB and its loss was still falling)
    "default-x4-third": (replace(BASE, scale=4, epochs=16, batch_shape=192, learning_rate=1.5e-4, seed=2,
                                 generator=replace(BASE.generator, scale=4)), "default-x4.safetensors", "default-x4"),
    # a fourth (the third gave +0.06 dB; the peers' best x4 is 0.01 dB above it)
    "default-x4-fourth": (replace(BASE, scale=4, epochs=16, batch_shape=192, learning_rate=1e-4, seed=3,
                                  generator=replace(BASE.generator, scale=4)), "default-x4.safetensors", "default-x4"),
    # a deeper x4 (12 residual blocks instead of 6), grown from the shipped x4: the new blocks
    # start as identities, so training starts at its 27.23 dB; at x4 the network runs on 1/16 of
    # the output pixels, so doubling its depth costs little (the cycles of the 6-block model had
    # flattened: +0.15, +0.06, +0.01 dB)
    "default-x4-deep": (replace(BASE, scale=4, epochs=20, batch_shape=192, learning_rate=1.5e-4, seed=5,
                                generator=replace(BASE.generator, scale=4, blocks=12)),
                        "default-x4.safetensors", "default-x4"),
    # and a second cycle for it (the first gained 0.04 dB)
    "default-x4-deep-more": (replace(BASE, scale=4, epochs=18, batch_shape=192, learning_rate=1e-4, seed=8,
                                     generator=replace(BASE.generator, scale=4, blocks=12)),
                             "default-x4.safetensors", "default-x4"),
    # a third, short and low (the second gained 0.026 dB, ending 0.004 below the 27.3 target)
    "default-x4-deep-third": (replace(BASE, scale=4, epochs=10, batch_shape=192, learning_rate=5e-5, seed=9,
                                      generator=replace(BASE.generator, scale=4, blocks=12)),
                              "default-x4.safetensors", "default-x4"),
    # issue 20, session 26: x4 grown again, 12 -> 18 blocks (the new blocks start as identities),
    # on the text recipe in bf16. Growing the repair model 12 -> 18 blocks gained +0.13 dB where its
    # cycles had flattened; x4's cycles have flattened too (+0.04, +0.026, then none), it trails cunet
    # on photos, illustration and line art, and at 0.17 s per output MP it has room (cunet 1.42).
    # Session 27: 10 epochs in fp32, as a run must finish within the session whose machine holds
    # its checkpoint, and this machine's CPU (AMD EPYC, Zen 3: AVX2, no AVX512-BF16) ran a bf16
    # training step of this network in 103 s against 2.6 s in fp32 (benchmarks trainstep)
    "default-x4-grow": _text_cycle(4, 18, 10, 256, 1.5e-4, 54),
    # descreening (--type=print), x1: its own architecture (two stride-2 stages give a 60 px
    # receptive radius, enough for screens of up to 10 px period), trained from scratch; no
    # identity skip: with one, cancelling the dots pixel by pixel learns far slower (150-step
    # trial: 17.7 dB with the skip, 19.0 dB without, identity 17.4)
    "print-x1": (replace(BASE, scale=1, type="print", epochs=18, batch_shape=128, degradation="print",
                         generator=PRINT_GENERATOR), "print-x1.safetensors", None),
    # a second, lower cosine cycle for the descreener (its loss was still falling after 18 epochs),
    # with more unscreened crops: forced onto engravings, the first cycle's model blurred them
    "print-x1-more": _print_cycle(9, 2e-4, "print-keep", 2),
    # a third, lower cycle with a quarter of the prints FM (the setting where it trailed the blur)
    "print-x1-third": _print_cycle(10, 1.5e-4, "print-fm", 3),
    # a fourth, fifth and sixth: each still gained (0.25, 0.15, 0.13, then 0.08 dB on the print track)
    "print-x1-fourth": _print_cycle(8, 1e-4, "print-fm", 4),
    "print-x1-fifth": _print_cycle(8, 1e-4, "print-fm", 5),
    "print-x1-sixth": _print_cycle(8, 1e-4, "print-fm", 6),
    # a seventh, three times as long: the short restarts were each gaining less (26.14 -> 26.43 dB)
    "print-x1-seventh": _print_cycle(24, 1e-4, "print-fm", 7),
    # the 24-epoch cycle gained 0.28 dB where the 8-epoch ones had gained 0.08-0.15: another long one
    "print-x1-eighth": _print_cycle(32, 1e-4, "print-fm", 8),
    # the 32-epoch cycle still gained 0.26 dB (26.43 -> 26.69): a ninth, longer one
    "print-x1-ninth": _print_cycle(40, 1e-4, "print-fm", 9),
    # next, not yet run: a tenth with synthetic engravings among the unscreened crops (print-hatch): forced onto
    # huckfinn's engraving, the ninth keeps only half its gradient energy and fades fine hatching
    "print-x1-tenth": _print_cycle(40, 1e-4, "print-hatch", 10),
    # issue 19: the widened press model (spot shapes, rosettes, inks, GCR, paper, tone curves,
    # scanners, 1-bit scans) with the print without its screen as the target, the loss taken on
    # the output as the command runs it (tone kept, sigma 6); benchmarks/pressb.py stays held out
    "print-x1-wide": _print_cycle(8, 1e-4, "print-wide", 11, tone_sigma=6.0),
    # the wide cycle kept fine straight line screens as if they were engravings' hatching:
    # twice the line screens, engravings always bent (print-wide-line)
    "print-x1-wide-line": _print_cycle(7, 1e-4, "print-wide-line", 12, tone_sigma=6.0),
    # since session 17 the command keeps the scan's tone over 0.6 of the measured screen period
    # (enhance.models.tone.sigma_for), where the descreener was trained with a fixed 6 px: the
    # loss now takes each crop's tone as the command will (its simulated period; 6 px for FM,
    # unscreened crops and line screens, which the command blurs across instead), on the press
    # model the shipped weights last saw (print-wide-line). Run in session 18 (5 epochs), scored
    # in session 19 against the shipped weights, both through the command at once: press A
    # 28.92 -> 28.87 dB, held-out press B 28.12 -> 28.19, so not shipped
    "print-x1-tone": _print_cycle(5, 1e-4, "print-wide-line", 13, tone_sigma=SIGMA, tone_at_period=True),
    # issue 19, session 21: since session 20 the command enlarges a scan until its screen is
    # about 8.5 px before descreening it (enhance.models.enlarged), so the descreener sees
    # band-limited 5-10 px screens; this cycle trains on exactly those (print-wide-line with each
    # lattice-screened crop enlarged by the command's factor), from the shipped weights
    "print-x1-enlarged": _print_cycle(6, 1e-4, "print-wide-line-enlarged", 38, tone_sigma=6.0),
    # scored in session 21 through the command against the shipped weights: press A +0.10 dB
    # (85 lpi newsprint +0.33, FM -0.16), held-out press B +0.16 (28.61 -> 28.77), mixed pages
    # -0.05 / +0.11 / -0.11 (A, B, B at 300 dpi), the 300 dpi fine-screen track -0.05 (1.7-2.3 px
    # screens, finer than any it trained on): a trade, not shipped. The next cycle, from its
    # weights (run print-x1-enlarged first: it publishes them where this stage starts from),
    # draws screens down to 1.7 px. Scored in session 21 the same way: press A 29.65, press B
    # 28.81, pages 29.82 / 30.10 / 32.33, but the 300 dpi fine-screen track still 32.15 against the
    # shipped 32.19 (four of five settings lower): not shipped
    "print-x1-enlarged-fine": _print_cycle(8, 6e-5, "print-wide-line-enlarged-fine", 39, tone_sigma=6.0),
    # issue 19, session 23: long cycles gained most (the seventh to ninth, 24-40 epochs: +0.26-0.29 dB
    # each on the print track) and the shipped weights had only 8 + 7 epochs on the widened press
    # model; 30 more on it, in bf16 (twice the iterations per hour). Started at the end of session 23
    # as 40 epochs and cut to 30 in session 24 after its fifth, to be scored in one session (the first
    # five ran on the 40-epoch cosine: learning rates 0.1-1 % higher than this schedule's); scored
    # through the command against the shipped weights before shipping
    "print-x1-wide-long": _bf16(_print_cycle(30, 1e-4, "print-wide-line", 47, tone_sigma=6.0)),
}

#: the line-art stages' shares: two fifths of the crops clip-art
LINEART_SHARES = {"photo": 0.35, "art": 0.25, "clipart": 0.4}
#: stages that draw the corpus's kinds in other shares than SHARES
STAGE_SHARES: dict[str, dict[str, float]] = {
    "default-x2-lineart": LINEART_SHARES,
    "default-x2-lineart-more": {"photo": 0.3, "art": 0.2, "clipart": 0.5},
    "default-x3-lineart": LINEART_SHARES,
    "default-x4-lineart": LINEART_SHARES,
    "default-x2-photos": LINEART_SHARES,
    "default-x2-aliased-light": LINEART_SHARES,
    "default-x2-aliased-variant": LINEART_SHARES,
    "default-x3-aliased-variant": LINEART_SHARES,
    "default-x4-aliased-variant": LINEART_SHARES,
    "default-x2-jpeg-lineart": LINEART_SHARES,
    "default-x3-jpeg-lineart": LINEART_SHARES,
    "default-x4-jpeg-lineart": LINEART_SHARES,
    "default-x2-jpeg-light": LINEART_SHARES,
    "default-x3-jpeg-light": LINEART_SHARES,
    "default-x2-jpeg-band": LINEART_SHARES,
    "default-x4-jpeg-light": LINEART_SHARES,
    "repair-x1-photos": {"photo": 0.7, "art": 0.2, "clipart": 0.1},
}


def lineage(init_path: str | None, stage: str, epochs: int) -> str:
    """The chain of stages behind a model, as JSON: its init file's chain (the ``lineage`` entry
    of its header) followed by this stage. zoo.json carries it, so a model's manifest entry
    names every stage it went through, not only the last."""
    prior: list[str] = []
    if init_path:
        prior = json.loads(read_header(init_path).get("lineage", "[]"))
    return json.dumps(prior + [f"{stage} ({epochs} epochs)"])


def _stage_precision(name: str, precision: str, device: str) -> str:
    """A stage's bf16 is where it pays: on a CPU without bf16 units (AVX512-BF16 or AMX) autocast
    emulates it, and a step of the 18-block x4 network took 103 s against 2.6 s in fp32 (AMD EPYC
    Zen 3, session 27), so such a CPU trains the stage in fp32 (``--precision bf16`` still forces it)."""
    if precision == "bf16" and device == "cpu" and not bf16_supported():
        logging.warning("%s: this CPU has no bf16 units, so the stage trains in fp32 (bf16 autocast would "
                        "emulate it, many times slower; --precision bf16 forces it)", name)
        return "fp32"
    return precision


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stages", nargs="+", help=f"stages to run, or 'all': {', '.join(STAGES)}")
    ap.add_argument("--corpus", default="data/corpus")
    ap.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every stage's epochs (quick trials)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: the stage's, 2)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default=None,
                    help="the generator's forward pass in fp32 or under bf16 autocast (default: the stage's, fp32; "
                         "a bf16 stage trains in fp32 on a CPU without bf16 units)")
    ap.add_argument("--device", default=None, help="torch device, e.g. cuda (default: the stage's, cpu)")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes drawing the training batches (default 0: the training process; a GPU wants several)")
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="stop each stage after this many minutes, checkpointed (run again to resume); "
                         "a stage stopped so publishes nothing")
    ap.add_argument("--run-root", default="runs", help="folder of the stages' run folders")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    stages = list(STAGES) if args.stages == ["all"] else args.stages
    images, kinds = load_corpus(args.corpus)
    logging.info("corpus: %d images, %.0f MP", len(images), corpus_megapixels(images))
    for name in stages:
        cfg, fname, init = STAGES[name]
        device = args.device or cfg.device
        cfg = replace(cfg, epochs=max(1, round(cfg.epochs * args.epochs_scale)), threads=args.threads or cfg.threads,
                      precision=args.precision or _stage_precision(name, cfg.precision, device), device=device,
                      workers=args.workers)
        t0 = time.time()
        deadline = t0 + 60 * args.minutes if args.minutes > 0 else float("inf")

        def report(p: TrainProgress, name: str = name) -> None:
            if p.epoch_done:
                logging.info("%s epoch %d/%d lr=%.2e %s (%.0f s)", name, p.epoch, p.epochs, p.learning_rate,
                             " ".join(f"{k}={v:.5f}" for k, v in p.losses.items()), p.seconds)

        weights = kind_weights(images, kinds, STAGE_SHARES.get(name, SHARES))
        init_path = f"{WEIGHTS}/{STAGES[init][1]}" if init else None
        meta = {"name": "descreen" if name.startswith("print") else name.split("-")[0], "licence": "same as Enhance; trained on the registry corpus",
                "recipe": f"recipes/train_neural.py {name}", "lineage": lineage(init_path, name, cfg.epochs)}
        # each epoch's weights stay in the run folder; the shipped file changes only when the
        # stage has finished, so the working tree's models pass their checksums meanwhile
        out = f"{args.run_root}/{name}/{fname}"
        train(images, cfg, f"{args.run_root}/{name}", out, init_from=init_path, progress=report, metadata=meta,
              weights=weights, should_stop=lambda deadline=deadline: time.time() > deadline)
        state = json.loads(Path(f"{args.run_root}/{name}/state.json").read_text())
        if state["epoch"] < cfg.epochs:  # stopped by --minutes: unfinished, so nothing is published
            logging.info("%s stopped after %.1f min at iteration %d; its checkpoint is in %s/%s", name,
                         (time.time() - t0) / 60, state["iteration"], args.run_root, name)
            continue
        shutil.copyfile(out, f"{WEIGHTS}/{fname}.part")
        publish(f"{WEIGHTS}/{fname}.part", f"{WEIGHTS}/{fname}")
        logging.info("%s done in %.1f min", name, (time.time() - t0) / 60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
