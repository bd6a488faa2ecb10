"""Throughput of a batch of small scans: the local engine against ``--engine ray`` on this machine.

``count`` scans (``side`` x ``side`` PNG, smooth noise with edges) are made once; each engine
then runs the whole command (``enhance --zoom=2 --model=default -q -o OUT --manifest M IN``, a
new process, Ray starting its own local cluster) and its wall time gives images per minute.
The Ray run's time includes starting the cluster; its outputs are checked byte for byte
against the local engine's.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image


def _scans(folder: Path, count: int, side: int) -> None:
    from scipy.ndimage import gaussian_filter

    folder.mkdir(parents=True)
    for i in range(count):
        rng = np.random.default_rng(i)
        a = gaussian_filter(rng.standard_normal((side, side, 3)), (2.5, 2.5, 0)) * 70 + 128
        a[:, side // 2:] += 30
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(folder / f"scan{i:04d}.png")


def run_track(count: int = 200, side: int = 256, log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    """Both engines on the same ``count`` scans; wall seconds, images per minute, identical outputs."""
    with tempfile.TemporaryDirectory(prefix="enhance-raytrack-") as d:
        work = Path(d)
        _scans(work / "in", count, side)
        out: dict[str, object] = {"count": count, "side": side, "model": "default x2"}
        for engine in ("local", "ray"):
            cmd = [sys.executable, "-m", "enhance.cli", "--zoom=2", "--model=default", "-q", "-o", str(work / engine),
                   "--manifest", str(work / f"{engine}.jsonl"), str(work / "in")] + (["--engine", "ray"] if engine == "ray" else [])
            t0 = time.perf_counter()
            rc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
            wall = time.perf_counter() - t0
            if rc.returncode != 0:
                raise RuntimeError(f"{engine}: {rc.stderr[-500:]}")
            out[engine] = {"wall_s": round(wall, 1), "images_per_minute": round(60 * count / wall, 1)}
            log(f"ray track {engine}: {out[engine]}")
        same = all((work / "ray" / p.name).read_bytes() == p.read_bytes() for p in (work / "local").iterdir())
        out["identical_outputs"] = same
        return out
