"""Which two models make x8 best: x4 then x2, or x2 then x4 (``python -m benchmarks zoomplan``).

Each bench image is reduced x8 by the protocol's MATLAB bicubic and enlarged back by each plan
through the tiled pipeline; PSNR-Y against the HR with an 8 px border left out. The plan the
command uses (:func:`enhance.treatment.zoom_plan`) is the one this measures best.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .metrics import psnr_y
from .protocol import BenchImage, make_lr


def run_plans(images: list[BenchImage], log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    from enhance.models.chain import Chain
    from enhance.treatment import load_model
    from enhance.upscaling import upscale_pixels

    x2, x4 = load_model("default", 2), load_model("default", 4)
    plans = {"x4 then x2": Chain(x4, x2), "x2 then x4": Chain(x2, x4),
             "bicubic x4 then x2": Chain(load_model("bicubic", 4), load_model("bicubic", 2))}
    out: dict[str, object] = {}
    for name, model in plans.items():
        rows = []
        for im in images:
            h, w = (im.hr.shape[0] // 8) * 8, (im.hr.shape[1] // 8) * 8
            hr = im.hr[:h, :w]
            sr = upscale_pixels(make_lr(hr, 8), "RGB", model)
            assert sr is not None
            rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(sr, hr, 8)})
        out[name] = rows
        log(f"x8 {name}: {np.mean([r['psnr'] for r in rows]):.3f} dB")
    return out
