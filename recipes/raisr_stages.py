"""Time RAISR's stages separately on a 1 MP x2 output (2 threads, median of 5 after a warm-up).

    python -m recipes.raisr_stages

Stages: colour conversion and the cheap bicubic upscale, then for each filter set (the first and
the refining one) the hash (gradients, structure tensor, bucket numbers), the filtering
(per-pixel filter taps, the multiply-adds) and the census blend.
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from enhance.models.raisr import _POPCOUNT, _census, cheap_upscale, hash_buckets
from enhance.treatment import load_model


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
    rng = np.random.default_rng(0)
    from scipy.ndimage import gaussian_filter

    lr = np.clip(0.5 + gaussian_filter(rng.standard_normal((500, 500, 3)), (3, 3, 0)) * 4, 0, 1).astype(np.float32)
    mp = (lr.shape[0] * 2) * (lr.shape[1] * 2) / 1e6
    y = lr @ np.array([0.299, 0.587, 0.114], np.float32)
    cheap = cheap_upscale(y, 2)
    bands = [(y0, min(cheap.shape[0], y0 + 128)) for y0 in range(0, cheap.shape[0], 128)]
    # the filter sets in order (the first, then the refining one), each with the image it filters
    sets, inputs = [model] + ([model.refine] if model.refine is not None else []), [cheap]
    if model.refine is not None:
        inputs.append(model.filter_luma(cheap))

    def hash_only(m, img) -> None:  # type: ignore[no-untyped-def]
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(lambda b: hash_buckets(img[max(0, b[0] - 8):b[1] + 8], m.cfg, m.strength_thr, m.coherence_thr), bands))

    def filter_only(m, img, buckets) -> None:  # type: ignore[no-untyped-def]
        r = m.cfg.patch // 2
        padded = np.pad(img, r, mode="reflect")

        def work(b: tuple[int, int]) -> None:
            y0, y1 = b
            h, w = y1 - y0, img.shape[1]
            out = np.zeros((h, w), np.float32)
            bk = buckets[y0:y1]
            k = 0
            for dy in range(m.cfg.patch):
                for dx in range(m.cfg.patch):
                    out += padded[y0 + dy:y0 + dy + h, dx:dx + w] * np.take(m._taps_t[k], bk)
                    k += 1

        with ThreadPoolExecutor(2) as ex:
            list(ex.map(work, bands))

    def census_only() -> None:
        out = cheap
        changed = _POPCOUNT[_census(out) ^ _census(cheap)] / 8.0
        _ = (1 - changed) * out + changed * cheap

    res = {"whole model call": _time(lambda: up(lr)) / mp, "cheap upscale (luma)": _time(lambda: cheap_upscale(y, 2)) / mp}
    for i, (m, img) in enumerate(zip(sets, inputs)):
        tag = f"stage {i + 1} ({m.cfg.patch}x{m.cfg.patch})"
        res[f"hash, {tag}"] = _time(lambda m=m, img=img: hash_only(m, img)) / mp
        bk = hash_buckets(img, m.cfg, m.strength_thr, m.coherence_thr)
        res[f"filtering, {tag}"] = _time(lambda m=m, img=img, bk=bk: filter_only(m, img, bk)) / mp
        res[f"census blend, {tag}"] = _time(census_only) / mp
    res["filtering, all stages"] = sum(v for k, v in res.items() if k.startswith("filtering, stage"))
    print(json.dumps({k: round(v, 4) for k, v in res.items()}, indent=1))


if __name__ == "__main__":
    main()
