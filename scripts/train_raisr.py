"""Reproduce the shipped RAISR filter sets (``--model=raisr``: x2, x3, x4, and x1 repair).

    python scripts/build_corpus.py data/corpus
    python scripts/train_raisr.py --corpus data/corpus 2 3 4 1

Uses every photo and painting of the corpus and a fixed share of the clip-art (about 100 MP
in all), MATLAB-bicubic LR (the benchmark protocol's), and for x1 JPEG quality 10-60 plus
noise; 7x7 filters at every scale. Writes enhance/models/weights/raisr-x{s}.safetensors.
NumPy/SciPy only.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time

import numpy as np
from PIL import Image

from enhance.models.raisr import RaisrConfig, RaisrTrainer, train_pairs_from_hr
from enhance.train.corpus import load_corpus

WEIGHTS = "enhance/models/weights"


def _luma(rgb: np.ndarray) -> np.ndarray:
    x = rgb.astype(np.float32) / 255.0
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def _jpeg_damage(rng: np.random.Generator):  # type: ignore[no-untyped-def]
    def damage(y: np.ndarray) -> np.ndarray:
        x = y * 255.0
        if rng.random() < 0.3:
            x = x + rng.normal(0, rng.uniform(1, 6), x.shape)
        buf = io.BytesIO()
        Image.fromarray(np.clip(np.round(x), 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=int(rng.integers(10, 61)))
        buf.seek(0)
        return np.asarray(Image.open(buf), np.float32) / 255.0

    return damage


def config_for(scale: int) -> RaisrConfig:
    """The shipped configuration per scale."""
    return RaisrConfig(scale=scale, patch=7)


def train_scale(images: list[np.ndarray], scale: int, seed: int = 0, log: logging.Logger | None = None) -> RaisrTrainer:
    cfg = config_for(scale)
    tr = RaisrTrainer(cfg)
    rng = np.random.default_rng(seed)
    damage = _jpeg_damage(rng) if scale == 1 else None
    lumas = [_luma(im) for im in images]
    sample = [train_pairs_from_hr(lumas[i], scale, damage)[0] for i in range(0, len(lumas), max(1, len(lumas) // 40))]
    tr.fit_thresholds(sample, seed=seed)
    t0 = time.time()
    for i, y in enumerate(lumas):
        cheap, target = train_pairs_from_hr(y, scale, damage)
        tr.add(cheap, target)
        if log and i % 100 == 0:
            log.info("x%d: %d/%d images (%.0f s)", scale, i, len(lumas), time.time() - t0)
    tr.symmetrise()
    return tr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scales", type=int, nargs="+")
    ap.add_argument("--corpus", default="data/corpus")
    ap.add_argument("--clipart", type=int, default=250, help="clip-art images to use")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    log = logging.getLogger("train_raisr")
    images, kinds = load_corpus(args.corpus, kinds=("photo", "art", "clipart"))
    clip = [im for im, k in zip(images, kinds) if k == "clipart"][: args.clipart]
    images = [im for im, k in zip(images, kinds) if k != "clipart"] + clip
    mp = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    log.info("training images: %d, %.0f MP", len(images), mp)
    for s in args.scales:
        t0 = time.time()
        tr = train_scale(images, s, log=log)
        model = tr.solve()
        secs = time.time() - t0
        model.save(f"{WEIGHTS}/raisr-x{s}.safetensors", {
            "name": "raisr", "type": "photo", "licence": "same as Enhance; trained on the registry corpus",
            "recipe": f"scripts/train_raisr.py {s}",
            "trained": f"{len(images)} images, {mp:.0f} MP, {secs:.0f} s on this machine"})
        log.info("x%d: %.0f s for %.0f MP (%.0f s per 100 MP)", s, secs, mp, secs / mp * 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
