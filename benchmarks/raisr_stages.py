"""Time RAISR's stages separately on a 1 MP x2 output (2 threads, median of 5 after a warm-up).

    python -m benchmarks.raisr_stages

Stages: colour conversion and the cheap bicubic upscale, the hash (gradients, structure tensor,
bucket numbers), the filtering (per-pixel filter taps, the multiply-adds), the census blend.
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from enhance.models.raisr import _POPCOUNT, _census, _cheap_upscale, _hash
from enhance.models.registry import load_model


def _time(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main() -> None:
    up = load_model("raisr", 2)
    model = up.model  # type: ignore[attr-defined]
    cfg = model.cfg
    rng = np.random.default_rng(0)
    from scipy.ndimage import gaussian_filter

    lr = np.clip(0.5 + gaussian_filter(rng.standard_normal((500, 500, 3)), (3, 3, 0)) * 4, 0, 1).astype(np.float32)
    mp = (lr.shape[0] * 2) * (lr.shape[1] * 2) / 1e6
    y = lr @ np.array([0.299, 0.587, 0.114], np.float32)
    cheap = _cheap_upscale(y, 2)
    r = cfg.patch // 2
    bands = [(y0, min(cheap.shape[0], y0 + 128)) for y0 in range(0, cheap.shape[0], 128)]
    buckets = _hash(cheap, cfg, model.strength_thr, model.coherence_thr)

    def hash_only() -> None:
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(lambda b: _hash(cheap[max(0, b[0] - 8):b[1] + 8], cfg, model.strength_thr, model.coherence_thr), bands))

    def filter_only() -> None:
        padded = np.pad(cheap, r, mode="reflect")

        def work(b: tuple[int, int]) -> None:
            y0, y1 = b
            h, w = y1 - y0, cheap.shape[1]
            out = np.zeros((h, w), np.float32)
            bk = buckets[y0:y1]
            k = 0
            for dy in range(cfg.patch):
                for dx in range(cfg.patch):
                    out += padded[y0 + dy:y0 + dy + h, dx:dx + w] * np.take(model._taps_t[k], bk)
                    k += 1

        with ThreadPoolExecutor(2) as ex:
            list(ex.map(work, bands))

    def census_only() -> None:
        out = cheap
        changed = _POPCOUNT[_census(out) ^ _census(cheap)] / 8.0
        _ = (1 - changed) * out + changed * cheap

    res = {
        "whole model call": _time(lambda: up(lr)) / mp,
        "cheap upscale (luma)": _time(lambda: _cheap_upscale(y, 2)) / mp,
        "hash": _time(hash_only) / mp,
        "filtering": _time(filter_only) / mp,
        "census blend": _time(census_only) / mp,
    }
    print(json.dumps({k: round(v, 4) for k, v in res.items()}, indent=1))


if __name__ == "__main__":
    main()
