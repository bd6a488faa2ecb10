"""The aliased track: x2 from low-resolution pictures that were never antialiased.

The protocol's LR is MATLAB's antialiased bicubic, and so was all the x2 model's training
until issue 20. Real low-dpi scans and careless resizes are often aliased: a scanner's pixel
integrates a small area of the page (close to a box reduction) or, at worst, samples points.
Each bench image (cropped to even sides) is reduced x2 three ways, by the training's own
kernels: the protocol's bicubic, a box filter, and point sampling (the pixel nearest each LR
pixel's centre, as Pillow's NEAREST takes it). Each LR is enlarged x2 by Pillow bicubic, Pillow Lanczos and each model
asked for (shipped, or a user model in ``--model-dir``); PSNR-Y against the HR with the protocol's border crop, and SSIMULACRA2 where the
``ssimulacra2`` package is installed. A crop sheet shows the hatching of huckfinn's engraving
point-sampled and enlarged, where aliasing turns into zigzags if a method sharpens it.

``python -m benchmarks aliased`` stores the results under ``aliased``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .metrics import psnr_y, ssimulacra2_or_none
from .protocol import BenchImage

#: the reductions of the track
KERNELS = ("matlab", "box", "point")

#: ``method(lr_rgb_uint8) -> x2 rgb uint8``
Method = Callable[[np.ndarray], np.ndarray]


def reduce(hr: np.ndarray, kernel: str) -> np.ndarray:
    """``hr`` (even sides) reduced x2 by ``kernel`` (one of :data:`KERNELS`), uint8: exactly the
    LR the training's degradation of that kernel makes (:mod:`enhance.train.degrade`)."""
    from enhance.train.degrade import Degradation, degrade

    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}")
    return degrade(hr, 2, Degradation(kernels=(kernel,)), np.random.default_rng(0))


def methods(models: list[str], model_dir: str | None = None) -> dict[str, Method]:
    """Pillow bicubic and Lanczos, and each model of ``models`` at x2 as the harness runs it
    (:func:`benchmarks.methods.ours`): a shipped name, or a user model
    (``ne2x-{type}-{name}.safetensors``) found in ``model_dir``."""
    from .methods import ROOT, ours, pillow

    def at_x2(f: Callable[[np.ndarray, int], np.ndarray]) -> Method:
        return lambda lr: f(lr, 2)

    out: dict[str, Method] = {"pil-bicubic": at_x2(pillow("bicubic")), "pil-lanczos": at_x2(pillow("lanczos"))}
    for m in models:
        out[m] = at_x2(ours(m, search_dir=Path(model_dir) if model_dir else ROOT))
    return out


def run_track(images: list[BenchImage], meths: dict[str, Method], sheets: str | None = None,
              log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    """Every method on every reduction: per image PSNR-Y (and SSIMULACRA2), and the means."""
    result: dict[str, object] = {}
    for kernel in KERNELS:
        per: dict[str, list[dict[str, object]]] = {}
        for name, fn in meths.items():
            rows = []
            for im in images:
                hr = im.hr[: im.hr.shape[0] // 2 * 2, : im.hr.shape[1] // 2 * 2]
                out = fn(reduce(hr, kernel))
                rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(out, hr, 2),
                             "ssimulacra2": ssimulacra2_or_none(out, hr)})
            per[name] = rows
            log(f"aliased {kernel} {name}: {np.mean([r['psnr'] for r in rows]):.2f} dB")
        result[kernel] = per
    if sheets:
        _sheet(images, meths, Path(sheets) / "aliased_huckfinn_scan.png")
    return result


def _sheet(images: list[BenchImage], meths: dict[str, Method], path: Path,
           image: str = "huckfinn_scan", at: tuple[int, int, int, int] = (380, 40, 160, 200)) -> None:
    """huckfinn's hatched dress (top, left, height, width in HR pixels), point-sampled x2 and
    enlarged by each method, beside the HR; 2x nearest-neighbour."""
    from .sheet import panel_strip

    im = next((im for im in images if im.name == image), None)
    if im is None:
        return
    hr = im.hr[: im.hr.shape[0] // 2 * 2, : im.hr.shape[1] // 2 * 2]
    lr = reduce(hr, "point")
    y0, x0, h, w = at
    panels = [("original", hr), ("point-sampled LR (nearest x2)", np.repeat(np.repeat(lr, 2, 0), 2, 1))]
    panels += [(name, fn(lr)) for name, fn in meths.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    panel_strip([(name, arr[y0:y0 + h, x0:x0 + w]) for name, arr in panels], zoom=2).save(path)
