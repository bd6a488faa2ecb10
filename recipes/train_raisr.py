"""Reproduce the shipped RAISR filter sets (``--model=raisr``: x2, x3, x4, and x1 repair).

    python -m recipes.build_corpus data/corpus
    python -m recipes.train_raisr --corpus data/corpus 2 3 4 1

Uses every photo and painting of the corpus and a fixed share of the clip-art (about 220 MP
in all), MATLAB-bicubic LR (the benchmark protocol's), and for x1 JPEG quality 10-60 plus
noise; the filters of ``recommended_config`` (x2: 7x7 then a 5x5 refining cascade; x3/x4:
11x11 then 9x9; x1: 7x7 twice, with the JPEG block lattice hashed too). Writes
src/enhance/models/weights/raisr-x{s}.safetensors.
NumPy/SciPy only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np

from enhance.train.raisr import jpeg_damage, recommended_config, train_filters
from recipes.corpus import load_raisr_set

WEIGHTS = "src/enhance/models/weights"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scales", type=int, nargs="+")
    ap.add_argument("--corpus", default="data/corpus")
    ap.add_argument("--clipart", type=int, default=250, help="clip-art images to use")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    log = logging.getLogger("train_raisr")
    images = load_raisr_set(args.corpus, args.clipart)
    mp = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    log.info("training images: %d, %.0f MP", len(images), mp)
    for s in args.scales:
        t0 = time.time()
        damage = jpeg_damage(np.random.default_rng(0), (10, 60), noise=6.0, noise_prob=0.3) if s == 1 else None
        model = train_filters(images, recommended_config(s), damage, seed=0,
                              progress=lambda d, t, s=s: d % 100 == 0 and log.info("x%d: %d/%d images", s, d, t))
        secs = time.time() - t0
        model.save(f"{WEIGHTS}/raisr-x{s}.safetensors", {
            "name": "raisr", "type": "photo", "licence": "same as Enhance; trained on the registry corpus",
            "recipe": f"recipes/train_raisr.py {s}",
            "trained": f"{len(images)} images, {mp:.0f} MP, {secs:.0f} s on this machine"})
        log.info("x%d: %.0f s for %.0f MP (%.0f s per 100 MP)", s, secs, mp, secs / mp * 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
