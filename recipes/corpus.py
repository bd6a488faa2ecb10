"""Build the training corpus from images that install from package registries.

No dataset site is reachable from where Enhance is built, so the shipped models learn from
images that Debian packages carry (wallpapers, Wesnoth paintings, Openclipart renders). The
public bench images come from some of the same packages; :data:`EXCLUDED` lists the source
files that must never enter a training set, and :func:`is_excluded` enforces it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

#: Debian packages the corpus reads from (``apt-get install`` them first).
APT_PACKAGES = (
    "plasma-workspace-wallpapers",
    "gnome-backgrounds",
    "mate-backgrounds",
    "ukui-wallpapers",
    "lomiri-wallpapers-20.04",
    "lomiri-wallpapers-16.04",  # added in session 18: 16 camera photos; stages before it trained without
    "wesnoth-1.16-data",
    "openclipart-png",
)

#: Name fragments of source files that the public bench was made from: never train on them.
EXCLUDED = (
    "EveningGlow", "FallenLeaf", "/Path/", "OneStandsOut", "/Grey/", "SafeLanding",
    "story/landscape-castle.jpg", "portraits/humans/bandit.png",
    "sailboat_illustration", "dancer_sketch_erich_schu_01", "c03-29.pdf", "baiona.png",
    "astronaut", "coffee", "chelsea", "camera", "brick", "gravel", "text.png", "page.png",
    "grace_hopper", "china",
)


def is_excluded(path: str) -> bool:
    """True when ``path`` is (or derives from) a source of the public bench set."""
    p = "/" + path.replace(os.sep, "/")
    return any(frag.lower() in p.lower() for frag in EXCLUDED)


@dataclass(frozen=True)
class CorpusItem:
    """One source image and how it enters the corpus."""

    source: str
    kind: str  # "photo", "art", "clipart"
    reduce: int  # box-filter shrink factor (>= 1)
    background: tuple[int, int, int] | None = None  # composite RGBA over this colour


def _largest_per_folder(paths: Iterable[str]) -> list[str]:
    best: dict[str, tuple[int, str]] = {}
    for p in paths:
        parts = p.split("/")
        key = "/".join(parts[:5]) if p.startswith("/usr/share/wallpapers/") else p
        try:
            with Image.open(p) as im:
                n = im.size[0] * im.size[1]
        except Exception:  # unreadable source: skipped, logged
            log.warning("skipping unreadable %s", p)
            continue
        if key not in best or n > best[key][0]:
            best[key] = (n, p)
    return sorted(v[1] for v in best.values())


def _stable_colour(path: str) -> tuple[int, int, int]:
    h = hashlib.sha256(path.encode()).digest()
    return (h[0], h[1], h[2])


def discover(root: str = "/") -> list[CorpusItem]:
    """List the corpus sources installed under ``root``, minus the excluded ones, sorted."""
    base = Path(root)
    items: list[CorpusItem] = []
    exts = (".jpg", ".jpeg", ".png", ".webp")
    seen: set[str] = set()
    wall: list[str] = []
    for d in ("usr/share/wallpapers", "usr/share/backgrounds"):
        for dirpath, _dirs, files in os.walk(base / d, followlinks=True):
            for f in files:
                p = os.path.join(dirpath, f)
                real = os.path.realpath(p)
                if f.lower().endswith(exts) and real not in seen and not is_excluded(p) and not is_excluded(real):
                    seen.add(real)
                    wall.append(p)
    for p in _largest_per_folder(wall):
        with Image.open(p) as im:
            long_side = max(im.size)
            lossy = (im.format or "").upper() in ("JPEG", "WEBP")
        reduce = int(min(4, max(2, round(long_side / 1280)))) if lossy else int(min(4, max(1, round(long_side / 1600))))
        items.append(CorpusItem(p, "photo", reduce))
    wes = base / "usr/share/games/wesnoth/1.16/data/core/images"
    for sub, reduce in (("story", 2), ("portraits", 1)):
        for dirpath, _dirs, files in os.walk(wes / sub):
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                if f.lower().endswith(exts) and not is_excluded(p):
                    items.append(CorpusItem(p, "art", reduce, _stable_colour(p)))
    clip = base / "usr/share/openclipart/png"
    for dirpath, _dirs, files in os.walk(clip):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            if f.lower().endswith(".png") and not is_excluded(p):
                items.append(CorpusItem(p, "clipart", 1, (255, 255, 255)))
    items.sort(key=lambda it: it.source)
    return items


def _box_reduce(a: np.ndarray, f: int) -> np.ndarray:
    if f <= 1:
        return a
    h, w = (a.shape[0] // f) * f, (a.shape[1] // f) * f
    a = a[:h, :w].astype(np.float32)
    a = a.reshape(h // f, f, w // f, f, -1).mean(axis=(1, 3))
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def load_item(item: CorpusItem, min_side: int = 192) -> np.ndarray | None:
    """Read one source as ``(H, W, 3)`` uint8 RGB, composited and box-reduced; None if too small."""
    with Image.open(item.source) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (*(item.background or (255, 255, 255)), 255))
            im = Image.alpha_composite(bg, im)
        rgb = np.asarray(im.convert("RGB"))
    rgb = _box_reduce(rgb, item.reduce)
    if min(rgb.shape[:2]) < min_side:
        return None
    if rgb.std() < 8:  # flat images teach nothing
        return None
    return rgb


def build(
    out_dir: str | Path,
    items: list[CorpusItem],
    max_clipart: int = 1500,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, object]:
    """Write the corpus as PNG files plus ``corpus.json`` into ``out_dir``.

    Clip-art is capped at ``max_clipart`` files (a deterministic, hash-ordered subset) so that
    line art does not drown the photos and paintings.

    Returns:
        The manifest written to ``corpus.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clip = [it for it in items if it.kind == "clipart"]
    clip.sort(key=lambda it: hashlib.sha256(it.source.encode()).hexdigest())
    chosen = [it for it in items if it.kind != "clipart"] + clip[: max_clipart * 2]
    entries = []
    n_clip = 0
    for i, it in enumerate(chosen):
        if progress:
            progress(i, len(chosen))
        if it.kind == "clipart" and n_clip >= max_clipart:
            continue
        try:
            rgb = load_item(it)
        except Exception as exc:  # a broken package file must not stop the build
            log.warning("skipping %s: %s", it.source, exc)
            continue
        if rgb is None:
            continue
        n_clip += it.kind == "clipart"
        name = f"{it.kind}_{hashlib.sha256(it.source.encode()).hexdigest()[:12]}.png"
        Image.fromarray(rgb).save(out / name, compress_level=1)
        entries.append({"file": name, "source": it.source, "kind": it.kind, "reduce": it.reduce,
                        "size": [int(rgb.shape[1]), int(rgb.shape[0])]})
    manifest = {"excluded": list(EXCLUDED), "images": entries,
                "megapixels": round(sum(e["size"][0] * e["size"][1] for e in entries) / 1e6, 1)}
    (out / "corpus.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def read_entry(corpus_dir: str | Path, entry: dict, clipart_max_side: int = 1024) -> np.ndarray:  # type: ignore[type-arg]
    """One image of a built corpus (an entry of its ``corpus.json``) as ``(H, W, 3)`` uint8, as
    :func:`load_corpus` reads it: clip-art renders larger than ``clipart_max_side`` box-reduced by 2."""
    with warnings.catch_warnings():  # a few clip-art renders are huge (and mostly blank); they are our own files
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        a = np.asarray(Image.open(Path(corpus_dir) / entry["file"]).convert("RGB"))
    while entry["kind"] == "clipart" and max(a.shape[:2]) > clipart_max_side:
        a = _box_reduce(a, 2)
    return a


def load_corpus(
    corpus_dir: str | Path, kinds: tuple[str, ...] | None = None, clipart_max_side: int = 1024,
    limits: dict[str, int] | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    """Load a built corpus: ``(H, W, 3)`` uint8 arrays and the kind of each, in manifest order.

    Clip-art renders larger than ``clipart_max_side`` are box-reduced by 2 (their detail is
    sparse at full size and they would crowd memory). ``limits`` caps the images taken of a
    kind (the first ones in the manifest); the rest are not read.
    """
    d = Path(corpus_dir)
    manifest = json.loads((d / "corpus.json").read_text())
    out, out_kinds = [], []
    taken: dict[str, int] = {}
    for e in manifest["images"]:
        if (kinds is None or e["kind"] in kinds) and taken.get(e["kind"], 0) < (limits or {}).get(e["kind"], 1 << 62):
            taken[e["kind"]] = taken.get(e["kind"], 0) + 1
            out.append(read_entry(d, e, clipart_max_side))
            out_kinds.append(e["kind"])
    return out, out_kinds


def load_raisr_set(corpus_dir: str | Path, clipart: int = 250) -> list[np.ndarray]:
    """The RAISR training images (``recipes/train_raisr.py``, ``recipes.raisr_configs``):
    every photo and painting, then the first ``clipart`` clip-art renders."""
    images, kinds = load_corpus(corpus_dir, kinds=("photo", "art", "clipart"), limits={"clipart": clipart})
    return [im for im, k in zip(images, kinds) if k != "clipart"] + [im for im, k in zip(images, kinds) if k == "clipart"]


def kind_weights(images: list[np.ndarray], kinds: list[str], shares: dict[str, float]) -> np.ndarray:
    """Sampling weights: each kind gets its ``shares`` of draws, by area within the kind."""
    area = np.array([a.shape[0] * a.shape[1] for a in images], dtype=np.float64)
    w = np.zeros_like(area)
    for k, share in shares.items():
        sel = np.array([kk == k for kk in kinds])
        if sel.any():
            w[sel] = share * area[sel] / area[sel].sum()
    return w / w.sum()


def corpus_megapixels(images: list[np.ndarray]) -> float:
    """Total size of ``images`` in megapixels."""
    return math.fsum(a.shape[0] * a.shape[1] for a in images) / 1e6
