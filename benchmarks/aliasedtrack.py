"""The aliased track: x2 (x3, x4) from low-resolution pictures that were never antialiased.

The protocol's LR is MATLAB's antialiased bicubic, and so was all the x2 model's training
until issue 20. Real low-dpi scans and careless resizes are often aliased: a scanner's pixel
integrates a small area of the page (close to a box reduction) or, at worst, samples points.
Each bench image (cropped to sides that are multiples of the scale) is reduced four ways: by the
training's own kernels (the protocol's bicubic, a box filter, point sampling: every scale-th
pixel), and by one no training draws from, ``scanner``: a scanner's optics (a Gaussian of 0.35
LR pixels, more than the variant for aliased input was trained with) sampled at each LR pixel's
centre (another phase than the training's). Each LR is enlarged by Pillow bicubic, Pillow
Lanczos and each model asked for (shipped, or a user model in ``--model-dir``; ``NAME:TYPE``
asks for a type, ``default:aliased`` what ``--type=aliased`` runs); PSNR-Y against the HR with
the protocol's border crop, and SSIMULACRA2 where the ``ssimulacra2`` package is installed. A
crop sheet shows the hatching of huckfinn's engraving point-sampled and enlarged, where
aliasing turns into zigzags if a method sharpens it.

``python -m benchmarks aliased`` stores the results under ``aliased`` (``--scale 3``:
``aliased_x3``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .metrics import psnr_y, ssimulacra2_or_none
from .protocol import BenchImage, at_multiple

#: the reductions of the track: the training's kernels, and a scanner no training draws from
KERNELS = ("matlab", "box", "point", "scanner")
#: the held-out scanner's optics, a Gaussian sigma in LR pixels
SCANNER_SIGMA = 0.35

#: ``method(lr_rgb_uint8) -> x2 rgb uint8``
Method = Callable[[np.ndarray], np.ndarray]


def reduce(hr: np.ndarray, kernel: str, scale: int = 2) -> np.ndarray:
    """``hr`` (sides multiples of ``scale``) reduced by ``scale`` by ``kernel`` (one of
    :data:`KERNELS`), uint8: for the training's kernels exactly the LR the training's degradation
    of that kernel makes (:mod:`enhance.train.degrade`); for ``scanner`` the HR blurred by
    :data:`SCANNER_SIGMA` LR pixels and sampled at the centre of each LR pixel."""
    from scipy.ndimage import gaussian_filter

    from enhance.train.degrade import Degradation, degrade

    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}")
    if kernel == "scanner":
        soft = gaussian_filter(hr.astype(np.float64), (SCANNER_SIGMA * scale, SCANNER_SIGMA * scale, 0), mode="reflect")
        # the pixel at (or, for an even scale, just past) the centre of each LR pixel's footprint
        o = scale // 2
        return np.clip(np.round(soft[o::scale, o::scale]), 0, 255).astype(np.uint8)
    return degrade(hr, scale, Degradation(kernels=(kernel,)), np.random.default_rng(0))


def methods(models: list[str], model_dir: str | None = None, scale: int = 2) -> dict[str, Method]:
    """Pillow bicubic and Lanczos, and each model of ``models`` at ``scale`` as the harness runs
    it (:func:`benchmarks.methods.ours`): a shipped name, or a user model
    (``ne{scale}x-{type}-{name}.safetensors``) found in ``model_dir``; ``NAME:TYPE`` with that
    type (``default:aliased``: what ``--type=aliased`` runs)."""
    from .methods import ROOT, ours, pillow

    def at(f: Callable[[np.ndarray, int], np.ndarray]) -> Method:
        return lambda lr: f(lr, scale)

    out: dict[str, Method] = {"pil-bicubic": at(pillow("bicubic")), "pil-lanczos": at(pillow("lanczos"))}
    for m in models:
        name, _, typ = m.partition(":")
        label = f"{name} --type={typ}" if typ else name
        out[label] = at(ours(name, search_dir=Path(model_dir) if model_dir else ROOT, type=typ or None))
    return out


def run_track(images: list[BenchImage], meths: dict[str, Method], sheets: str | None = None,
              log: Callable[[str], None] = lambda s: None, scale: int = 2) -> dict[str, object]:
    """Every method (enlarging by ``scale``) on every reduction: per image PSNR-Y (and
    SSIMULACRA2), and the means."""
    result: dict[str, object] = {}
    hrs = [at_multiple(im.hr, scale) for im in images]
    for kernel in KERNELS:
        lrs = [reduce(hr, kernel, scale) for hr in hrs]  # once per image, for every method
        per: dict[str, list[dict[str, object]]] = {}
        for name, fn in meths.items():
            rows = []
            for im, hr, lr in zip(images, hrs, lrs):
                out = fn(lr)
                rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(out, hr, scale),
                             "ssimulacra2": ssimulacra2_or_none(out, hr)})
            per[name] = rows
            log(f"aliased x{scale} {kernel} {name}: {np.mean([r['psnr'] for r in rows]):.2f} dB")
        result[kernel] = per
    if sheets:
        suffix = "" if scale == 2 else f"_x{scale}"
        _sheet(images, meths, Path(sheets) / f"aliased{suffix}_huckfinn_scan.png", scale)
    return result


def _sheet(images: list[BenchImage], meths: dict[str, Method], path: Path, scale: int = 2,
           image: str = "huckfinn_scan", at: tuple[int, int, int, int] = (380, 40, 160, 200)) -> None:
    """huckfinn's hatched dress (top, left, height, width in HR pixels), point-sampled by
    ``scale`` and enlarged by each method, beside the HR; 2x nearest-neighbour."""
    from .sheet import panel_strip

    im = next((im for im in images if im.name == image), None)
    if im is None:
        return
    hr = at_multiple(im.hr, scale)
    lr = reduce(hr, "point", scale)
    y0, x0, h, w = at
    panels = [("original", hr), (f"point-sampled LR (nearest x{scale})", np.repeat(np.repeat(lr, scale, 0), scale, 1))]
    panels += [(name, fn(lr)) for name, fn in meths.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    panel_strip([(name, arr[y0:y0 + h, x0:x0 + w]) for name, arr in panels], zoom=2).save(path)
