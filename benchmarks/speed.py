"""Speed and memory: seconds per output megapixel (median after a warm-up) beside a reference.

Each method is timed in a fresh subprocess, so its peak RSS is its own; inside that process
Pillow bicubic is timed on the same input as the reference, so the ratio holds on a noisy
machine.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from .protocol import BENCH_DIR


def speed_input(scale: int, out_mp: float = 1.0) -> np.ndarray:
    """An LR picture whose x``scale`` output is about ``out_mp`` megapixels (from bench/boats)."""
    side = int(round((out_mp * 1e6) ** 0.5 / scale))
    hr = Image.open(BENCH_DIR / "boats.png").convert("RGB")
    return np.asarray(hr.resize((side, side), Image.LANCZOS))


def time_method(method, lr: np.ndarray, scale: int, runs: int = 5, warmup: int = 1) -> float:  # type: ignore[no-untyped-def]
    """Median seconds per output megapixel of ``method(lr, scale)``."""
    for _ in range(warmup):
        method(lr, scale)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = method(lr, scale)
        times.append(time.perf_counter() - t0)
    mp = out.shape[0] * out.shape[1] / 1e6
    return statistics.median(times) / mp


def probe(name: str, scale: int, runs: int) -> dict[str, float]:
    """Run in a subprocess: time ``name`` and Pillow bicubic; report both and the peak RSS."""
    from .methods import pillow, resolve

    method, _ = resolve(name)
    if method is None:
        raise SystemExit(f"{name}: not available")
    lr = speed_input(scale)
    ref = time_method(pillow("bicubic"), lr, scale, runs=max(runs, 5))
    sec = time_method(method, lr, scale, runs=runs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"sec_per_mp": sec, "ref_bicubic_sec_per_mp": ref, "ratio_to_bicubic": sec / ref, "max_rss_mb": rss}


def measure(name: str, scale: int, runs: int = 5) -> dict[str, float] | None:
    """Speed of one method in a fresh process (None if it failed there)."""
    cmd = [sys.executable, "-m", "benchmarks", "speedprobe", "--method", name, "--scale", str(scale), "--runs", str(runs)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])
