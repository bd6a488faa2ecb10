"""The retina track (``python -m benchmarks retina``): does the enhancement survive the web pipeline?

Each bench image's HR is the truth of a @2x or @3x asset; the protocol's MATLAB-bicubic LR is
"the scan". Enhance makes the asset as ``--retina`` does (the ``default`` model at that zoom,
through the command's Treatment); a plain Lanczos-3 enlargement is made beside it. Then each goes
through the web pipeline (JPEG 80 4:2:0, WebP 80, AVIF 50: sharp's defaults, libvips), and so
does the truth. Scores: PSNR-Y (the protocol's, border = the scale) and SSIMULACRA2 of each
delivered asset against the delivered truth, and before the pipeline against the truth itself.
The gain over Lanczos before and after each encoder is the answer to the publisher's third question.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .metrics import psnr_y
from .protocol import BenchImage, make_lr

#: the pipeline's encoders: (format, quality)
PIPELINE = (("jpeg", 80), ("webp", 80), ("avif", 50))


def run_track(images: list[BenchImage], scales: tuple[int, ...] = (2, 3),
              log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    from enhance.image import ImageMeta
    from enhance.quality import ssimulacra2
    from enhance.retina import web_decode, web_encode
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import resize_to, upscale_pixels

    out: dict[str, object] = {}
    for s in scales:
        treatment = Treatment(ModelRequest("default", s), detect_screens=False)
        rows = []
        for im in images:
            h, w = (im.hr.shape[0] // s) * s, (im.hr.shape[1] // s) * s
            hr = im.hr[:h, :w]
            lr = make_lr(hr, s)
            model, _ = treatment.for_file(lr, ImageMeta(layout="RGB"))
            enhanced = upscale_pixels(lr, "RGB", model)
            assert enhanced is not None
            plain = resize_to(lr, h, w)
            row: dict[str, object] = {"image": im.name, "class": im.klass,
                                      "none": _scores(enhanced, plain, hr, s, ssimulacra2)}
            for fmt, q in PIPELINE:
                truth = web_decode(web_encode(hr, fmt, q))
                row[f"{fmt}{q}"] = _scores(web_decode(web_encode(enhanced, fmt, q)), web_decode(web_encode(plain, fmt, q)),
                                           truth, s, ssimulacra2)
            rows.append(row)
        out[f"x{s}"] = rows
        for key in ["none"] + [f"{f}{q}" for f, q in PIPELINE]:
            g = np.mean([r[key]["enhance_psnr"] - r[key]["lanczos_psnr"] for r in rows])  # type: ignore[index]
            gs = np.mean([r[key]["enhance_ssimulacra2"] - r[key]["lanczos_ssimulacra2"] for r in rows])  # type: ignore[index]
            log(f"retina x{s} {key}: gain over Lanczos {g:+.2f} dB PSNR-Y, {gs:+.1f} SSIMULACRA2")
    return out


def _scores(enhanced: np.ndarray, plain: np.ndarray, truth: np.ndarray, border: int,
            ssim2: Callable[[np.ndarray, np.ndarray], float]) -> dict[str, float]:
    return {"enhance_psnr": psnr_y(enhanced, truth, border), "lanczos_psnr": psnr_y(plain, truth, border),
            "enhance_ssimulacra2": ssim2(truth, enhanced), "lanczos_ssimulacra2": ssim2(truth, plain)}
