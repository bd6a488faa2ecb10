"""Train one stage on a lent GPU for a fixed wall time, and hand its weights back.

On the device machine (the ``device`` tool's ``run``; carry ``gpu``, made here first by
``python -m recipes.pack_corpus data/corpus gpu``), from the repository root::

    PYTHONPATH=src:. python3 -m recipes.train_gpu default-x2-jpeg-band --minutes 8 --out "$OUT"

The stage's recipe runs unchanged (its loss, degradation, learning rate, batch and init weights)
but on CUDA under bf16 autocast, its batches drawn by ``--workers`` processes from the packed
corpus (fonts from ``gpu/fonts``). A first minute measures the iterations per second; the
stage's epoch count is then scaled so that its whole cosine schedule fits the minutes left (the
learning rate reaches zero: the weights are finished, not cut off mid-schedule). The model file,
its checkpoint and state, and the log are copied to ``--out``; copy the model back over
``src/enhance/models/weights`` and score it like any CPU cycle's before shipping.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from recipes import train_neural


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=sorted(train_neural.STAGES))
    ap.add_argument("--minutes", type=float, required=True, help="wall time for the whole job, probe included")
    ap.add_argument("--corpus", default="gpu/corpus")
    ap.add_argument("--fonts", default="gpu/fonts")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--workers", type=int, default=min(12, (os.cpu_count() or 2) - 2))
    ap.add_argument("--probe-minutes", type=float, default=1.0)
    ap.add_argument("--out", default="gpu/out")
    args = ap.parse_args(argv)
    t_start = time.time()
    os.environ["ENHANCE_FONT_DIRS"] = str(Path(args.fonts).resolve())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(out / "train.log")])
    common = [args.stage, "--corpus", args.corpus, "--device", args.device, "--precision", "bf16",
              "--workers", str(args.workers)]
    probe_root = out / "probe-runs"
    t0 = time.time()
    train_neural.main(common + ["--minutes", str(args.probe_minutes), "--run-root", str(probe_root)])
    probe_s = time.time() - t0
    done = json.loads((probe_root / args.stage / "state.json").read_text())["iteration"]
    shutil.rmtree(probe_root)
    rate = done / probe_s  # corpus loading and the workers' start counted in: an underestimate
    cfg = train_neural.STAGES[args.stage][0]
    left_s = 60 * args.minutes - (time.time() - t_start) - probe_s * 0.5  # room for loading again and saving
    epochs = max(1, int(rate * left_s / cfg.epoch_size))
    logging.info("probe: %d iterations in %.0f s (%.2f/s); %d epochs of %d fit in %.1f min (the recipe: %d)",
                 done, probe_s, rate, epochs, cfg.epoch_size, left_s / 60, cfg.epochs)
    run_root = out / "runs"
    train_neural.main(common + ["--epochs-scale", str(epochs / cfg.epochs), "--run-root", str(run_root),
                                "--minutes", str(max(0.5, (60 * args.minutes - (time.time() - t_start)) / 60))])
    for f in (run_root / args.stage).iterdir():
        shutil.copyfile(f, out / f.name)
    shutil.rmtree(run_root)
    logging.info("done in %.1f min; weights and checkpoint in %s", (time.time() - t_start) / 60, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
