"""The bench set, LR generation, the methods under test, and scoring per image and class."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from enhance.resize import imresize

from .metrics import psnr, psnr_y, ssim_y

BENCH_DIR = Path(os.environ.get("ENHANCE_BENCH_DIR", Path(__file__).resolve().parents[2] / "shared" / "bench"))
CLASSES = ("photo", "texture", "illustration", "line art", "scan/text")

#: ``method(lr_rgb_uint8, scale) -> sr_rgb_uint8``
Method = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class BenchImage:
    name: str
    klass: str
    hr: np.ndarray  # (H, W, 3) uint8


def content_class(category: str) -> str:
    """Map a MANIFEST category to one of :data:`CLASSES`."""
    c = category.lower()
    if "texture" in c:
        return "texture"
    if "illustration" in c or "paint" in c:
        return "illustration"
    if "line" in c:
        return "line art"
    if "scan" in c or "text" in c:
        return "scan/text"
    return "photo"


def load_bench(bench_dir: Path = BENCH_DIR, names: list[str] | None = None) -> list[BenchImage]:
    """The bench images as RGB uint8, with their content class."""
    manifest = json.loads((bench_dir / "MANIFEST.json").read_text())
    out = []
    for e in manifest:
        if names and e["name"] not in names:
            continue
        hr = np.asarray(Image.open(bench_dir / e["file"]).convert("RGB"))
        out.append(BenchImage(e["name"], content_class(e.get("category", "")), hr))
    return out


def at_multiple(hr: np.ndarray, scale: int) -> np.ndarray:
    """``hr`` cropped (bottom and right) to sides that are multiples of ``scale``."""
    return hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]


def make_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB ``imresize(hr, 1/scale, 'bicubic')``, rounded to uint8."""
    h, w = hr.shape[0] // scale, hr.shape[1] // scale
    return np.clip(np.round(imresize(hr[: h * scale, : w * scale], output_shape=(h, w))), 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, quality: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """The repair track's damage: optional Gaussian noise (levels), then JPEG at ``quality``."""
    x = img
    if noise > 0:
        rng = np.random.default_rng(seed)
        x = np.clip(np.round(img + rng.normal(0, noise, img.shape)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def score_sr(method: Method, images: list[BenchImage], scale: int) -> list[dict[str, object]]:
    """Run ``method`` on every image at ``scale``; PSNR-Y / SSIM-Y with ``scale`` border crop."""
    rows = []
    for im in images:
        hr = at_multiple(im.hr, scale)
        lr = make_lr(hr, scale)
        sr = method(lr, scale)
        if sr.shape != hr.shape:
            raise RuntimeError(f"{im.name}: method returned {sr.shape}, expected {hr.shape}")
        rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(sr, hr, scale), "ssim": ssim_y(sr, hr, scale)})
    return rows


REPAIR_SETTINGS = (("q10", 10, 0.0), ("q20", 20, 0.0), ("q30", 30, 0.0), ("q50", 50, 0.0), ("q30+noise", 30, 5.0))


def score_repair(method: Method | None, images: list[BenchImage]) -> list[dict[str, object]]:
    """x1 repair: PSNR-Y (and RGB PSNR) against the original; ``None`` scores the damaged input."""
    rows = []
    for setting, q, noise in REPAIR_SETTINGS:
        for i, im in enumerate(images):
            damaged = jpeg(im.hr, q, noise, seed=i)
            out = damaged if method is None else method(damaged, 1)
            rows.append({"image": im.name, "class": im.klass, "setting": setting,
                         "psnr": psnr_y(out, im.hr, 0), "psnr_rgb": psnr(out, im.hr), "ssim": ssim_y(out, im.hr, 0)})
    return rows


def summarize(rows: list[dict[str, object]], key: str = "psnr") -> dict[str, float]:
    """Mean of ``key`` over all rows and per content class."""
    out = {"mean": float(np.mean([r[key] for r in rows]))}
    for c in CLASSES:
        vals = [r[key] for r in rows if r["class"] == c]
        if vals:
            out[c] = float(np.mean(vals))
    return out
