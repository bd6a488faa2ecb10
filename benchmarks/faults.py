"""Fault injection: the command killed at random moments, then resumed; and a decompression-bomb canvas.

``python -m benchmarks faults --trials 30`` runs ``enhance --skip-existing`` over a small batch
and sends it SIGKILL at a random moment (uniform over the time that run has to do: the start-up
and the files still missing; when none is missing, three outputs are removed first so that
every kill interrupts work), ``trials`` times, each kill followed by the next run over the same
folder; then a last run without a kill. After every kill it counts outputs under their final names that are not whole (a
partial output: must be 0), and at the end the temporaries left (a leak: must be 0, since a
new run removes those of dead processes) and whether the resumed outputs are byte for byte
those of an uninterrupted run ("resume complete").

It then enlarges a 35-byte GIF whose canvas is 15000 x 15000 (225 MP, under the default pixel
limit) x2 to PNG and records the process's peak memory and time: the output (900 MP) streams,
so the memory is the input's and a band of tiles, not the output's.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from enhance.outfile import is_complete


def _inputs(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        side = 160 + 40 * (i % 4)
        y, x = np.mgrid[0:side, 0:side].astype(np.float32)
        pic = np.stack([127 + 100 * np.sin(x / (5 + i)), 127 + 100 * np.cos(y / 7), (x + y) % 255], -1)
        pic += rng.normal(0, 8, pic.shape)
        p = folder / f"img{i:02d}.png"
        Image.fromarray(np.clip(pic, 0, 255).astype(np.uint8)).save(p)
        paths.append(p)
    return paths


def _command(inputs: Path, out: Path, model: str) -> list[str]:
    return [sys.executable, "-m", "enhance.cli", "--zoom=2", f"--model={model}", "-q", "--skip-existing",
            "-o", str(out), str(inputs / "*.png")]


def kill_and_resume(workdir: Path, trials: int = 30, files: int = 8, model: str = "default",
                    seed: int = 0) -> dict[str, object]:
    """``trials`` runs killed at random moments, each resumed by the next; see the module docstring."""
    if workdir.exists():
        shutil.rmtree(workdir)
    inputs = workdir / "in"
    _inputs(inputs, files)
    ref = workdir / "reference"
    t0 = time.perf_counter()
    subprocess.run(_command(inputs, ref, model), check=True)
    whole_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run(_command(inputs, ref, model), check=True)  # everything there: start-up and the skips
    startup = time.perf_counter() - t0
    out = workdir / "out"
    rnd = random.Random(seed)
    partial = 0
    killed_with_temporaries = 0
    for _ in range(trials):
        done_now = sorted(n for n in os.listdir(out) if not n.startswith(".")) if out.exists() else []
        if len(done_now) == files:  # keep work to interrupt: a few outputs removed, to be made again
            for n in rnd.sample(done_now, 3):
                (out / n).unlink()
        left = files - (len(os.listdir(out)) if out.exists() else 0)
        p = subprocess.Popen(_command(inputs, out, model), stderr=subprocess.DEVNULL)
        # a moment uniform over what this run has to do
        time.sleep(rnd.uniform(0.0, startup + (whole_run - startup) * max(0, left) / files))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
        names = os.listdir(out) if out.exists() else []
        killed_with_temporaries += any(".tmp" in n for n in names)
        partial += sum(1 for n in names if not n.startswith(".") and not is_complete(out / n))
    done = subprocess.run(_command(inputs, out, model), stderr=subprocess.PIPE, text=True)
    names = sorted(os.listdir(out))
    leaks = [n for n in names if ".tmp" in n]
    same = sorted(os.listdir(ref)) == names and all((ref / n).read_bytes() == (out / n).read_bytes() for n in names)
    return {"trials": trials, "files": files, "model": model, "whole_run_s": round(whole_run, 2),
            "startup_s": round(startup, 2),
            "partial_outputs": partial, "kills_that_left_temporaries": killed_with_temporaries,
            "leaks_after_resume": len(leaks), "resume_complete": bool(same and done.returncode == 0)}


def big_canvas(workdir: Path, model: str = "bicubic") -> dict[str, object]:
    """A 35-byte GIF with a 15000 x 15000 canvas enlarged x2 to PNG: peak RSS and time of the process."""
    workdir.mkdir(parents=True, exist_ok=True)
    gif = workdir / "canvas.gif"
    head = b"GIF89a" + struct.pack("<HHBBB", 15000, 15000, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    gif.write_bytes(head + b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00;")
    out = workdir / "canvas_out"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "enhance.cli", "--zoom=2", f"--model={model}", "-q", "-o", str(out),
                          str(gif)], stderr=subprocess.PIPE, text=True)
    assert p.stderr is not None
    err = p.stderr.read()
    _pid, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    png = out / "canvas_ne2x.png"
    result = {"input_bytes": gif.stat().st_size, "canvas": "15000x15000", "output": "30000x30000 PNG", "model": model,
              "rc": os.waitstatus_to_exitcode(status), "output_whole": is_complete(png, ((30000, 30000),)),
              "seconds": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024), "stderr": err.strip()[-300:]}
    shutil.rmtree(out, ignore_errors=True)
    return result
