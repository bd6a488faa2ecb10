"""The press track: descreening scored against the print seen without its screen, on the
press the descreener learned from (family A, ``enhance.train.halftone``) and on a held-out one
it never saw (family B, :mod:`benchmarks.pressb`).

The print track scores against the pre-press original, which on a real scan nobody has: the
press's inks, paper and dot gain are part of what was printed. Here the target is the same
print laid down as continuous coverage (``print_and_scan(..., screenless=True)`` and
:func:`~benchmarks.pressb.print_and_scan_b`), so a method is judged on removing the screen and
keeping the print's tone and colour. Two figures per method: PSNR-Y (4 px border out) and the
tone error, the RMS difference in 8-bit levels of the RGB low-pass (Gaussian sigma 4) of output
and target. Methods: the best Gaussian blur for the setting (chosen on this target), the FFT
notch, the descreen model as trained (its raw output) and with its tone kept
(:class:`enhance.models.tone.ToneKept`), and what ``enhance --type=print`` does (the latter, or
a blur across a line screen's lines where :func:`~enhance.descreen.detect_line_screen` finds one).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter

from enhance.train.halftone import print_and_scan

from .metrics import psnr_y
from .pressb import SETTINGS as B_SETTINGS
from .pressb import print_and_scan_b, to8
from .printtrack import BORDER, GAUSS_SIGMAS, PRINT_SETTINGS, gaussian, notch
from .protocol import BenchImage

Descreener = Callable[[np.ndarray], np.ndarray]


def cases() -> dict[str, tuple[str, str, Callable[[BenchImage, int], tuple[np.ndarray, np.ndarray]]]]:
    """``key -> (family, label, simulate(image, index) -> (scan8, screenless8))``."""
    out: dict[str, tuple[str, str, Callable[[BenchImage, int], tuple[np.ndarray, np.ndarray]]]] = {}
    for case in PRINT_SETTINGS:
        def sim_a(im: BenchImage, i: int, case=case) -> tuple[np.ndarray, np.ndarray]:
            rng = np.random.default_rng(1000 * i + sum(map(ord, case.key)))
            scan, clean = print_and_scan(im.hr.astype(np.float32) / 255.0, case.settings, rng, screenless=True)
            return to8(scan), to8(clean)
        out[case.key] = ("A (trained on)", case.label, sim_a)
    for key, (label, s) in B_SETTINGS.items():
        def sim_b(im: BenchImage, i: int, s=s, key=key) -> tuple[np.ndarray, np.ndarray]:
            return print_and_scan_b(im.hr, s, np.random.default_rng(1000 * i + sum(map(ord, key))))
        out[key] = ("B (held out)", label, sim_b)
    return out


def tone_error(out: np.ndarray, truth: np.ndarray, sigma: float = 4.0) -> float:
    """RMS difference of the RGB low-passes (Gaussian ``sigma``), in 8-bit levels."""
    a = gaussian_filter(out.astype(np.float64), (sigma, sigma, 0), mode="reflect")
    b = gaussian_filter(truth.astype(np.float64), (sigma, sigma, 0), mode="reflect")
    d = (a - b)[BORDER:-BORDER, BORDER:-BORDER]
    return float(np.sqrt(np.mean(d * d)))


def score_pairs(method: Descreener, pairs: list[tuple[BenchImage, np.ndarray, np.ndarray]]) -> list[dict[str, object]]:
    """``method`` on each ``(image, scan, screenless)``: a row per image with PSNR-Y against the
    print without its screen (4 px border) and the tone error."""
    rows = []
    for im, scan, truth in pairs:
        out = method(scan)
        rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(out, truth, BORDER),
                     "tone": tone_error(out, truth)})
    return rows


def _descreeners() -> dict[str, Descreener]:
    from enhance.models.registry import open_model
    from enhance.models.tone import ToneKept
    from enhance.upscaling import upscale_pixels

    raw = open_model("descreen", 1, "print")
    kept = ToneKept(raw)

    def run(m: object) -> Descreener:
        def f(scan: np.ndarray) -> np.ndarray:
            out = upscale_pixels(scan, "RGB", m, tile=512)  # type: ignore[arg-type]
            assert out is not None
            return out
        return f

    from enhance.image import ImageMeta
    from enhance.treatment import ModelRequest, Treatment

    treatment = Treatment(ModelRequest("default", 1, "print"))

    def command(scan: np.ndarray) -> np.ndarray:
        # what `enhance --type=print --zoom=1` does with the scan (no DPI given): the descreener
        # with its tone kept, or a blur across a line screen's lines where one is found
        model, _ = treatment.for_file(scan, ImageMeta("RGB"))
        return run(model)(scan)

    return {"descreen as trained": run(raw), "descreen, tone kept": run(kept), "the command (--type=print)": command}


def run_track(images: list[BenchImage], log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    """Every setting of both families: best Gaussian, notch and the descreener two ways."""
    ours = _descreeners()
    result: dict[str, object] = {}
    for key, (family, label, sim) in cases().items():
        pairs = [(im, *sim(im, i)) for i, im in enumerate(images)]
        best: tuple[float, list[dict[str, object]]] | None = None
        for sigma in GAUSS_SIGMAS:
            rows = score_pairs(gaussian(sigma), pairs)
            if best is None or np.mean([r["psnr"] for r in rows]) > np.mean([r["psnr"] for r in best[1]]):
                best = (sigma, rows)
        assert best is not None
        methods: dict[str, list[dict[str, object]]] = {f"gaussian (best sigma {best[0]})": best[1],
                                                       "notch": score_pairs(notch, pairs)}
        for name, fn in ours.items():
            methods[name] = score_pairs(fn, pairs)
        result[key] = {"family": family, "label": label, "methods": methods}
        for name, rows in methods.items():
            log(f"press {key} {name}: {np.mean([r['psnr'] for r in rows]):.2f} dB, "
                f"tone {np.mean([r['tone'] for r in rows]):.2f}")
    return result
