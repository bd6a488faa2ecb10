"""Whole-command speed and memory: ``enhance --zoom=2`` on a 1 MP and a 100 MP output.

Each run is a fresh ``enhance`` process (import, model load, read, tiles, write), timed by
wall clock; its peak RSS comes from ``os.wait4``. Seconds per output megapixel are given beside
the output size. One-picture runs are repeated (``repeat``) and the median wall time kept, since
a single start-up can be off by a second on a busy machine; every run's time is stored.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from .protocol import BENCH_DIR


def _input(workdir: Path, out_mp: float, zoom: int) -> Path:
    side = int(round((out_mp * 1e6) ** 0.5 / zoom))
    path = workdir / f"in_{side}.png"
    if not path.exists():
        Image.open(BENCH_DIR / "boats.png").convert("RGB").resize((side, side), Image.LANCZOS).save(path, compress_level=1)
    return path


def run_command(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB, exit status)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, proc.returncode


def _repeated(cmd: list[str], repeat: int, out_dir: Path | None = None) -> tuple[float, float, int, list[float]]:
    """Run ``cmd`` ``repeat`` times (clearing ``out_dir`` before each); (median wall, max RSS,
    last exit status, all walls)."""
    walls, rss_max, rc = [], 0.0, 0
    for _ in range(max(1, repeat)):
        if out_dir is not None:
            shutil.rmtree(out_dir, ignore_errors=True)
        wall, rss, rc = run_command(cmd)
        walls.append(wall)
        rss_max = max(rss_max, rss)
        if rc != 0:
            break
    return statistics.median(walls), rss_max, rc, walls


def run_peers(peers: list[str], workdir: Path, out_mp: float = 1.0, repeat: int = 3) -> list[dict[str, object]]:
    """A peer's whole process (read, x2, write PNG) on the same 1 MP-output input as enhance."""
    src = _input(workdir, out_mp, 2)
    w, h = Image.open(src).size
    mp = w * h * 4 / 1e6
    rows = []
    for peer in peers:
        cmd = [sys.executable, "-m", "benchmarks.peer_cli", peer, str(src), str(workdir / f"peer_{peer}.png")]
        wall, rss, rc, walls = _repeated(cmd, repeat)
        if rc != 0:
            print(f"skip peer {peer} (exit {rc})", file=sys.stderr)
            continue
        rows.append({"model": f"{peer} (peer)", "zoom": 2, "format": "png", "output_mp": round(mp, 2), "seconds": round(wall, 2),
                     "sec_per_mp": round(wall / mp, 4), "max_rss_mb": round(rss, 1), "exit": rc,
                     "runs": [round(t, 2) for t in walls]})
        print(f"pipeline peer {peer} {mp:.1f} MP: {wall:.1f} s, {rss:.0f} MB peak", file=sys.stderr)
    return rows


def run_pipeline(models: list[str], sizes: list[float], workdir: Path, zoom: int = 2, repeat: int = 3) -> list[dict[str, object]]:
    """Time ``enhance`` for each model and output size (PNG, plus streamed TIFF for big outputs);
    outputs under 10 MP are timed ``repeat`` times (median)."""
    workdir.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("enhance") or str(Path(sys.executable).with_name("enhance"))
    rows = []
    for mp in sizes:
        src = _input(workdir, mp, zoom)
        w, h = Image.open(src).size
        out_mp = w * h * zoom * zoom / 1e6
        formats = ["png"] + (["tiff"] if mp >= 50 else [])
        for model in models:
            for fmt in formats:
                out_dir = workdir / f"out_{model}_{fmt}"
                cmd = [exe, f"--zoom={zoom}", f"--model={model}", "-q", "--format", fmt, "--output", str(out_dir), str(src)]
                wall, rss, rc, walls = _repeated(cmd, repeat if out_mp < 10 else 1, out_dir)
                rows.append({"model": model, "zoom": zoom, "format": fmt, "output_mp": round(out_mp, 2),
                             "seconds": round(wall, 2), "sec_per_mp": round(wall / out_mp, 4),
                             "max_rss_mb": round(rss, 1), "exit": rc, "runs": [round(t, 2) for t in walls]})
                print(f"pipeline {model} {fmt} {out_mp:.1f} MP: {wall:.1f} s, {rss:.0f} MB peak (exit {rc})", file=sys.stderr)
                shutil.rmtree(out_dir, ignore_errors=True)
    return rows
