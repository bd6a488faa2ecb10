"""Compare RAISR configurations: train each on a share of the training images, score it on the bench.

    python -m recipes.raisr_configs 4 p=11,r=9,sig=4 p=7,r=5 [--every 3]
    python -m recipes.raisr_configs 1 p=7,r=7,g=8 p=7,r=7,g=8,q=10-30

Each configuration is ``p=`` (first filter side), ``r=`` (refining filter side, 0 for none),
``sig=`` (structure-tensor window) and, at x1 (repair), ``g=`` (JPEG lattice hashed, 8 or 0)
and ``q=`` (the training JPEG quality range, 10-60 unless given; noise on 30 % as shipped);
x1 is scored on the repair track's JPEG q20 setting (PSNR-Y gain over the damaged input).
Each is trained on every ``--every``-th image of the set that ``recipes/train_raisr.py`` uses (the bench images are never part of it) and scored with the
benchmark protocol (MATLAB-bicubic LR, mean PSNR-Y over the bench). This is how the shipped
configurations of ``recommended_config`` were chosen; the table is in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from enhance.models.raisr import RaisrConfig, RaisrModel, RaisrUpscaler
from enhance.train.raisr import jpeg_damage, train_filters
from recipes.corpus import load_raisr_set

from benchmarks.protocol import load_bench, score_repair, score_sr, summarize


def _parse(scale: int, spec: str) -> tuple[RaisrConfig, tuple[int, int]]:
    """A configuration spec -> the RAISR configuration and the x1 training quality range."""
    kw = dict(kv.split("=", 1) for kv in spec.split(",") if kv)
    lo, hi = kw.get("q", "10-60").split("-")
    cfg = RaisrConfig(scale=scale, patch=int(kw.get("p", 7)), refine_patch=int(kw.get("r", 5)),
                      sigma=float(kw.get("sig", 1.5)), grid=int(kw.get("g", 0)))
    return cfg, (int(lo), int(hi))


def _method(model: RaisrModel):  # type: ignore[no-untyped-def]
    up = RaisrUpscaler(model, threads=1)

    def run(lr: np.ndarray, s: int) -> np.ndarray:
        return np.clip(np.round(up(lr.astype(np.float32) / 255.0) * 255.0), 0, 255).astype(np.uint8)

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scale", type=int)
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--every", type=int, default=3, help="train on every n-th image")
    ap.add_argument("--corpus", default="data/corpus")
    ap.add_argument("--clipart", type=int, default=250)
    args = ap.parse_args(argv)
    images = load_raisr_set(args.corpus, args.clipart)[:: args.every]
    mp = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    print(f"training on {len(images)} images, {mp:.0f} MP", flush=True)
    bench = load_bench()
    for spec in args.configs:
        cfg, quality = _parse(args.scale, spec)
        damage = None
        if args.scale == 1:
            damage = jpeg_damage(np.random.default_rng(0), quality, noise=6.0, noise_prob=0.3)
        t0 = time.time()
        model = train_filters(images, cfg, damage, seed=0)
        secs = time.time() - t0
        if args.scale == 1:
            ours = [r for r in score_repair(_method(model), bench) if r["setting"] == "q20"]
            dmg = [r for r in score_repair(None, bench) if r["setting"] == "q20"]
            a, b = summarize(ours)["mean"], summarize(dmg)["mean"]
            print(f"x1 {spec}: q20 {a:.3f} dB PSNR-Y ({a - b:+.3f} over the damaged input), trained in {secs:.0f} s", flush=True)
        else:
            score = summarize(score_sr(_method(model), bench, args.scale))["mean"]
            print(f"x{args.scale} {spec}: {score:.3f} dB PSNR-Y, trained in {secs:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
