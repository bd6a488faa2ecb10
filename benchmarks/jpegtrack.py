"""The JPEG track: small pictures that were saved as JPEG, enlarged x2 (or x3, x4).

What Enhance's users have most often is not a clean low-resolution picture but a small JPEG.
Each bench image is reduced by the protocol's MATLAB bicubic, saved as JPEG at a fixed quality
(Pillow, 4:2:0), decoded, and enlarged by the scale; the score is PSNR-Y against the HR
original, with the protocol's border crop (2 px at x2, the scale beyond), and at x3 and x4 also
SSIMULACRA2 where the ``ssimulacra2`` package is installed (a chain can raise PSNR while it
flattens strokes). Methods, in the same run:

* ``default``: the model alone (``--repair never``);
* ``default, --repair auto``: what ``enhance --zoom=S file.jpg`` does, asked of the command's own
  :class:`enhance.treatment.Treatment`: the JPEG treatment when the file's quantization tables
  put it at a low enough quality;
* ``repair + default``: the repair model first at every quality;
* ``default jpeg variant``: the default model's JPEG variant at every quality (``--repair
  always``), where one is shipped at the scale; ``default jpeg-light variant`` likewise, its
  variant for light compression (x2, x3);
* waifu2x cunet, plain x2 and with the denoise level (0-3) best for each quality (chosen on the
  whole bench, which favours it), where installed (x2 only: waifu2x has no x3 and is not run at x4).

``python -m benchmarks jpeg [--scale 3|4]`` stores the results under ``jpeg`` (``jpeg_x3``, ``jpeg_x4``) and
rewrites BENCHMARKS.md.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .metrics import psnr_y, ssimulacra2_or_none
from .protocol import BenchImage, at_multiple, make_lr

#: JPEG qualities of the track
QUALITIES = (30, 50, 70, 85, 95)

#: ``method(decoded_jpeg_rgb_uint8, estimated_quality) -> x2 rgb uint8``
JpegMethod = Callable[[np.ndarray, int], np.ndarray]


def jpeg_file(lr: np.ndarray, quality: int) -> tuple[np.ndarray, int]:
    """Save ``lr`` as JPEG at ``quality`` and read it back: the decoded pixels and the quality
    :func:`enhance.jpegdamage.estimate_quality` reads from the file's tables."""
    from enhance.jpegdamage import estimate_quality

    buf = io.BytesIO()
    Image.fromarray(lr).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        q = estimate_quality(im.quantization)
        return np.asarray(im.convert("RGB")), int(q if q is not None else 100)


def ours(repair: str, scale: int = 2) -> JpegMethod:
    """The ``default`` model at ``scale`` as the command runs it with ``--repair`` = "never" or "auto": the
    model each file goes through is the command's own :class:`~enhance.treatment.Treatment`'s
    choice, from the quality read off the file (screen detection, which only adds notes
    without ``--auto``, is left out)."""
    from enhance.image import ImageMeta
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    treatment = Treatment(ModelRequest("default", scale), repair=repair, detect_screens=False)

    def run(pixels: np.ndarray, quality: int) -> np.ndarray:
        model, _notes = treatment.for_file(pixels, ImageMeta(layout="RGB", jpeg_quality=quality))
        out = upscale_pixels(pixels, "RGB", model)
        assert out is not None
        return out

    return run


def _fixed(model: object) -> JpegMethod:
    from enhance.upscaling import upscale_pixels

    def run(pixels: np.ndarray, quality: int) -> np.ndarray:
        out = upscale_pixels(pixels, "RGB", model)  # type: ignore[arg-type]
        assert out is not None
        return out

    return run


def _peer(variant: str) -> JpegMethod | None:
    from .methods import waifu2x

    m = waifu2x("cunet", variant)
    return None if m is None else (lambda pixels, quality: m(pixels, 2))


def _score(method: JpegMethod, cases: list[tuple[BenchImage, np.ndarray, np.ndarray, int]], scale: int,
           perceptual: bool) -> list[dict[str, object]]:
    rows = []
    for im, hr, pixels, q in cases:
        out = method(pixels, q)
        row: dict[str, object] = {"image": im.name, "class": im.klass, "psnr": psnr_y(out, hr, max(2, scale))}
        if perceptual:
            row["ssimulacra2"] = ssimulacra2_or_none(out, hr)
        rows.append(row)
    return rows


def run_track(images: list[BenchImage], log: Callable[[str], None] = lambda s: None,
              with_peers: bool = True, scale: int = 2, sheets: str | None = None) -> dict[str, object]:
    """Every quality: the JPEG'd input upscaled by bicubic (for scale), ours three or four ways,
    and the peer (x2 only). Rows carry ``psnr`` and, at x3 and beyond, ``ssimulacra2`` (None
    without the package). With ``sheets`` (a folder), at x3 and beyond, the strokes crop sheet
    :func:`stroke_sheet` is drawn there too."""
    from .methods import pillow

    from enhance.models.chain import Chain
    from enhance.models.registry import has_variant
    from enhance.treatment import load_model

    methods: dict[str, JpegMethod | None] = {
        "pil-bicubic": (lambda p, q, f=pillow("bicubic"): f(p, scale)),
        "default": ours("never", scale),
        "default, --repair auto": ours("auto", scale),
        "repair + default": _fixed(Chain(load_model("repair", 1), load_model("default", scale))),
    }
    if has_variant("default", scale, "jpeg"):
        methods["default jpeg variant"] = _fixed(load_model("default", scale, "jpeg"))
    if has_variant("default", scale, "jpeg-light"):
        methods["default jpeg-light variant"] = _fixed(load_model("default", scale, "jpeg-light"))
    peers: dict[str, JpegMethod | None] = {}
    if with_peers and scale == 2:
        peers = {"waifu2x cunet": _peer("scale2.0x_model.onnx")}
        peers.update({f"waifu2x cunet noise{n}": _peer(f"noise{n}_scale2.0x_model.onnx") for n in range(4)})
    out: dict[str, object] = {}
    for q in QUALITIES:
        cases = []
        for im in images:
            hr = at_multiple(im.hr, scale)
            pixels, est = jpeg_file(make_lr(hr, scale), q)
            cases.append((im, hr, pixels, est))
        entry: dict[str, object] = {"estimated_quality": sorted({c[3] for c in cases}), "methods": {}}
        for name, fn in {**methods, **peers}.items():
            if fn is None:
                continue
            rows = _score(fn, cases, scale, scale > 2)
            entry["methods"][name] = rows  # type: ignore[index]
            log(f"jpeg q{q} {name}: {np.mean([r['psnr'] for r in rows]):.2f} dB")
        out[f"q{q}"] = entry
    if sheets and scale > 2:
        stroke_sheet(images, {n: f for n, f in methods.items() if f is not None}, scale,
                     Path(sheets) / f"jpeg_x{scale}_huckfinn_scan.png")
    return out


#: the quality of the strokes sheet: a small JPEG of the kind the issue's pencil sketch was
SHEET_QUALITY = 40


def stroke_sheet(images: list[BenchImage], methods: dict[str, JpegMethod], scale: int, path: Path,
                 image: str = "huckfinn_scan", at: tuple[int, int, int, int] = (380, 40, 160, 200)) -> None:
    """huckfinn's hatched dress (top, left, height, width in HR pixels), reduced by ``scale``,
    saved as JPEG at :data:`SHEET_QUALITY` and enlarged by each method, beside the HR and the
    decoded JPEG (nearest-neighbour); every panel at 2x, nearest-neighbour. Strokes that a chain
    flattens into grey blobs show here, where PSNR may still rise."""
    from .sheet import panel_strip

    im = next((im for im in images if im.name == image), None)
    if im is None:
        return
    hr = at_multiple(im.hr, scale)
    pixels, est = jpeg_file(make_lr(hr, scale), SHEET_QUALITY)
    y0, x0, h, w = at
    panels = [("original", hr), (f"JPEG q{SHEET_QUALITY} (nearest x{scale})",
                                 np.repeat(np.repeat(pixels, scale, 0), scale, 1))]
    panels += [(name, fn(pixels, est)) for name, fn in methods.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    panel_strip([(name, arr[y0:y0 + h, x0:x0 + w]) for name, arr in panels], zoom=2).save(path)


def best_denoise(track: dict[str, object]) -> dict[str, str]:
    """For each quality, the waifu2x noise level with the best mean (the peer's best case)."""
    best = {}
    for key, entry in track.items():
        cands = {n: np.mean([r["psnr"] for r in rows]) for n, rows in entry["methods"].items()  # type: ignore[union-attr,index]
                 if n.startswith("waifu2x cunet noise")}
        if cands:
            best[key] = max(cands, key=cands.get)  # type: ignore[arg-type]
    return best
