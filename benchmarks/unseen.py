"""Unseen track: the protocol's x2/x3/x4 scoring on registry sample images that are neither on the
public bench nor in the training corpus.

The public bench decides nothing about which weights ship when a candidate is only hundredths of a
dB apart: choosing on it would tune to it. This track is the check on pictures no model and no
choice ever saw: the sample images of the scikit-image, matplotlib and scikit-learn wheels (pinned
versions, fetched with ``pip download`` from PyPI) that the bench did not take (../shared/BENCH.md
lists the ones it did; the corpus reads Debian packages only). Fifteen files: eight photos (camera,
micrograph, astronomy, a retina, the moon), two textures, three line-art logos and a silhouette,
two illustrations.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .protocol import REPAIR_SETTINGS, BenchImage, Method, score_repair, score_sr, summarize

#: the wheels the images come from (pinned: a newer release may change its sample data)
WHEELS = ("scikit-image==0.26.0", "matplotlib==3.11.2", "scikit-learn==1.9.1")
#: (member path inside its wheel, name, class); none of these is a bench source (BENCH.md)
IMAGES = (
    ("skimage/data/rocket.jpg", "rocket", "photo"),
    ("sklearn/datasets/images/flower.jpg", "flower", "photo"),
    ("skimage/data/motorcycle_left.png", "motorcycle", "photo"),
    ("skimage/data/coins.png", "coins", "photo"),
    ("skimage/data/moon.png", "moon", "photo"),
    ("skimage/data/hubble_deep_field.jpg", "hubble", "photo"),
    ("skimage/data/ihc.png", "ihc", "photo"),
    ("skimage/data/retina.jpg", "retina", "photo"),
    ("skimage/data/grass.png", "grass", "texture"),
    ("skimage/data/cell.png", "cell", "texture"),
    ("skimage/data/horse.png", "horse", "line art"),
    ("skimage/data/logo.png", "logo", "line art"),
    ("matplotlib/mpl-data/sample_data/logo2.png", "mpl_logo", "line art"),
    ("matplotlib/mpl-data/sample_data/Minduka_Present_Blue_Pack.png", "present", "illustration"),
    ("skimage/data/color.png", "colour_chart", "illustration"),
)
#: larger files are scored on their central square of this side (the retina scan is 2 MP)
MAX_SIDE = 768


def fetch(cache: Path) -> Path:
    """The wheels in ``cache`` (``pip download --no-deps``, only when missing) and their sample
    images extracted into ``cache/images``; returns that folder."""
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {spec.split("==")[0].replace("-", "_").lower(): spec for spec in WHEELS}
    have = {p.name.split("-")[0].lower(): p for p in cache.glob("*.whl")}
    missing = [spec for key, spec in wanted.items() if key not in have]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache), *missing],
                       check=True)
    out = cache / "images"
    out.mkdir(exist_ok=True)
    for wheel in cache.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            names = set(z.namelist())
            for member, name, _ in IMAGES:
                target = out / f"{name}{Path(member).suffix}"
                if member in names and not target.exists():
                    target.write_bytes(z.read(member))
    return out


def load_unseen(folder: Path) -> list[BenchImage]:
    """The track's images as ``(H, W, 3)`` uint8 RGB (alpha composited over white, grey made
    RGB, at most the central ``MAX_SIDE`` square), sides cut to a multiple of 12 so every scale
    sees the same pixels."""
    out = []
    for member, name, klass in IMAGES:
        path = folder / f"{name}{Path(member).suffix}"
        with Image.open(path) as src:
            rgba = src.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        rgb = np.asarray(flat.convert("RGB"))
        h, w = rgb.shape[:2]
        y0, x0 = max(0, (h - MAX_SIDE) // 2), max(0, (w - MAX_SIDE) // 2)
        rgb = rgb[y0:y0 + MAX_SIDE, x0:x0 + MAX_SIDE]
        h, w = (rgb.shape[0] // 12) * 12, (rgb.shape[1] // 12) * 12
        out.append(BenchImage(name, klass, np.ascontiguousarray(rgb[:h, :w])))
    return out


def run_track(images: list[BenchImage], methods: dict[str, Method], scales: tuple[int, ...],
              log: Callable[[str], None] = lambda s: None) -> dict[str, dict[str, object]]:
    """Each method at each scale it offers: per-image rows and the mean per class (PSNR-Y).
    Scale 1 is the repair track (the protocol's JPEG damage, :func:`~benchmarks.protocol.score_repair`):
    per setting, the gain over the damaged input, per class."""
    result: dict[str, dict[str, object]] = {}
    for name, method in methods.items():
        for s in scales:
            if s == 1:
                rows = score_repair(method, images)
                base = score_repair(None, images)
                gains = {}
                for setting, *_ in REPAIR_SETTINGS:
                    ours = summarize([r for r in rows if r["setting"] == setting])
                    damaged = summarize([r for r in base if r["setting"] == setting])
                    gains[setting] = {k: ours[k] - damaged[k] for k in ours}
                    log(f"unseen {name} repair {setting}: gain " + " ".join(f"{k} {v:+.3f}" for k, v in gains[setting].items()))
                result.setdefault(name, {})["x1"] = {"gain": gains, "images": rows}
                continue
            try:
                rows = score_sr(method, images, s)
            except ValueError:  # a method without this scale (waifu2x has no x3)
                continue
            summary = summarize(rows)
            result.setdefault(name, {})[f"x{s}"] = {"psnr": summary, "images": rows}
            log(f"unseen {name} x{s}: " + " ".join(f"{k} {v:.3f}" for k, v in summary.items()))
    return result
