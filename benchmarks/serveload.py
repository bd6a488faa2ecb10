"""Load on ``enhance serve`` over loopback: many concurrent uploads against one worker.

A real server (``python -m enhance.cli serve --workers 1``) on a free port; ``count`` clients
at once each upload one small image (``side`` x ``side``, x2 with ``default``) and poll their job
until it is done. Every job must complete or be refused with 503 (never lost, never a 5xx
other than 503); the figures are jobs per minute, p50/p95 latency from upload to done, and the
server's peak RSS (VmHWM) beside its RSS after one warm-up job (the worker's models loaded).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _picture(side: int, seed: int) -> bytes:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    a = gaussian_filter(rng.standard_normal((side, side, 3)), (3, 3, 0)) * 60 + 128
    buf = io.BytesIO()
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def run_load(count: int = 50, side: int = 128, model: str = "default", max_queued: int = 20, timeout: float = 600.0,
             log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    """Start a server, fire ``count`` uploads at once, wait for every job; the figures."""
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "enhance.cli", "serve", "-q", "--port", str(port), "--workers", "1",
                             "--max-queued", str(max_queued)], stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            for _ in range(300):
                try:
                    c.get("/api/models")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            idle = _rss_mb(proc.pid, "VmRSS")

            def one(i: int) -> dict[str, object]:
                t0 = time.perf_counter()
                r = c.post("/api/jobs", files={"files": (f"scan{i}.png", _picture(side, i), "image/png")},
                           data={"model": model, "zoom": "2", "type": "photo"})
                if r.status_code != 202:
                    return {"status": r.status_code, "retry_after": r.headers.get("retry-after")}
                jid = r.json()["id"]
                while time.perf_counter() - t0 < timeout:
                    job = c.get(f"/api/jobs/{jid}").json()
                    if job["state"] == "done":
                        ok = job["files"][0]["state"] == "done"
                        return {"status": 202, "done": ok, "seconds": time.perf_counter() - t0}
                    time.sleep(0.2)
                return {"status": 202, "done": False, "seconds": None}

            warm = one(count)  # a picture none of the clients sends
            warm_rss = _rss_mb(proc.pid, "VmRSS")
            t0 = time.perf_counter()
            with ThreadPoolExecutor(count) as ex:
                rows = list(ex.map(one, range(count)))
            wall = time.perf_counter() - t0
            peak = _rss_mb(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    done = [r for r in rows if r.get("done")]
    refused = [r for r in rows if r["status"] == 503]
    lost = [r for r in rows if r not in done and r not in refused]
    lat = np.array([r["seconds"] for r in done], float)
    res = {"uploads": count, "side": side, "model": model, "max_queued": max_queued, "done": len(done),
           "refused_503": len(refused), "lost_or_failed": len(lost), "retry_after": sorted({r["retry_after"] for r in refused}),
           "wall_s": round(wall, 2), "jobs_per_minute": round(60 * len(done) / wall, 1),
           "p50_s": round(float(np.percentile(lat, 50)), 2) if lat.size else None,
           "p95_s": round(float(np.percentile(lat, 95)), 2) if lat.size else None,
           "warm_job_s": round(float(warm.get("seconds") or 0), 2),
           "rss_idle_mb": round(idle), "rss_after_warmup_mb": round(warm_rss), "rss_peak_mb": round(peak),
           "exit_code": proc.returncode}
    log(f"serve load: {res}")
    return res


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run_load(log=lambda s: print(s, file=sys.stderr)), indent=1))
    os._exit(0)
