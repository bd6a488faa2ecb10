"""Fine-screen track: 300 dpi scans of magazine and book prints (133-175 lpi), the scan most
publishers make, where the screen is 1.7-2.3 px: finer than two pixels along its direction.

Each bench image is printed and scanned at 300 dpi by the trained press (family A,
``enhance.train.halftone``) and by the held-out one (family B, :mod:`benchmarks.pressb`), and
scored as the press track scores (PSNR-Y against the print seen without its screen, 4 px border;
the tone error beside it). Rows: the best Gaussian blur for the setting (chosen on this target,
which favours it), what ``enhance --type=print`` does and what ``--auto`` does, both told the
file's 300 dpi; and the detector's record: the screens found, and found at their own period
(within 10 %), where a period 3.4 px at 0 degrees is a 2 px screen's harmonics folded back.

The press track's settings are all 300-600 dpi scans of 85-150 lpi (2.0-7.1 px screens); none
of this track's is among them, and the descreener never trained on a period under 2.5 px.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from enhance.train.halftone import PrintSettings, print_and_scan

from .metrics import psnr_y
from .pressb import PressB, print_and_scan_b, to8
from .presstrack import score_pairs, tone_error
from .printtrack import BORDER, GAUSS_SIGMAS, gaussian
from .protocol import BenchImage

DPI = 300.0
#: ``key -> (family, label, settings)``
SETTINGS: dict[str, tuple[str, str, PrintSettings | PressB]] = {
    "A-150lpi-300dpi": ("A", "CMYK 150 lpi (2.0 px), classic rosette", PrintSettings(150, DPI, 45.0, colour=True)),
    "A-gray-175lpi-300dpi": ("A", "black 175 lpi (1.7 px) at 45 degrees", PrintSettings(175, DPI, 45.0)),
    "A-133lpi-300dpi": ("A", "CMYK 133 lpi (2.3 px), rosette turned 20 degrees",
                        PrintSettings(133, DPI, 65.0, colour=True)),
    "B-chain-150lpi-300dpi": ("B", "CMYK chain dots 150 lpi (2.0 px), GCR 50 %, tinted paper, JPEG 90",
                              PressB(150, DPI, "ellipse", jpeg=90, turn=7.0)),
    "B-round-175lpi-300dpi": ("B", "black round dots 175 lpi (1.7 px), box aperture, sharpened",
                              PressB(175, DPI, "round", colour=False, aperture=1.2, sharpen=0.4, turn=3.0)),
}


def simulate(key: str, im: BenchImage, i: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scan8, screenless8)`` of bench image ``im`` (its index ``i`` seeds it) at setting ``key``."""
    _family, _label, s = SETTINGS[key]
    rng = np.random.default_rng(3000 + 1000 * i + sum(map(ord, key)))
    if isinstance(s, PressB):
        return print_and_scan_b(im.hr, s, rng)
    scan, clean = print_and_scan(im.hr.astype(np.float32) / 255.0, s, rng, screenless=True)
    return to8(scan), to8(clean)


def _command(auto: bool) -> Callable[[np.ndarray], tuple[np.ndarray, bool]]:
    """What ``enhance --zoom=1 --type=print`` (or ``--auto``) does with a 300 dpi scan, and
    whether it said it found a screen."""
    from enhance.image import ImageMeta
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    treatment = Treatment(ModelRequest(None, 1), auto=True) if auto else Treatment(ModelRequest(None, 1, type="print"))

    def run(scan: np.ndarray) -> tuple[np.ndarray, bool]:
        model, notes = treatment.for_file(scan, ImageMeta("RGB", dpi=(DPI, DPI)))
        out = upscale_pixels(scan, "RGB", model, tile=512)
        assert out is not None
        return out, any("screen detected:" in n for n in notes)

    return run


def run_track(images: list[BenchImage], log: Callable[[str], None] = lambda s: None) -> dict[str, object]:
    """Every setting: the best blur, the command two ways, the detector's record."""
    from enhance.descreen import detect_screen

    ways = {"the command (--type=print)": _command(False), "the command (--auto)": _command(True)}
    result: dict[str, object] = {}
    for key, (family, label, s) in SETTINGS.items():
        pairs = [(im, *simulate(key, im, i)) for i, im in enumerate(images)]
        methods: dict[str, dict[str, float]] = {}
        blurs = {sigma: score_pairs(gaussian(sigma), pairs) for sigma in GAUSS_SIGMAS}
        sigma = max(blurs, key=lambda k: float(np.mean([r["psnr"] for r in blurs[k]])))
        methods[f"gaussian (best sigma {sigma})"] = {k: float(np.mean([r[k] for r in blurs[sigma]]))
                                                     for k in ("psnr", "tone")}
        for name, way in ways.items():
            runs = [way(scan) for _im, scan, _clean in pairs]
            methods[name] = {"psnr": float(np.mean([psnr_y(o, c, BORDER) for (o, _d), (_im, _s, c) in zip(runs, pairs)])),
                             "tone": float(np.mean([tone_error(o, c) for (o, _d), (_im, _s, c) in zip(runs, pairs)])),
                             "screen_found": sum(d for _o, d in runs)}
        reports = [detect_screen(scan, DPI) for _im, scan, _clean in pairs]
        found = sum(r.found for r in reports)
        at_period = sum(bool(r.found and r.period and abs(r.period / s.period - 1) <= 0.1) for r in reports)
        result[key] = {"family": family, "label": label, "period": s.period, "methods": methods,
                       "found": found, "at_its_period": at_period, "of": len(pairs)}
        log(f"fine {key}: found {found}/{len(pairs)}, {at_period} at its period; "
            + "; ".join(f"{n} {m['psnr']:.2f} dB" for n, m in methods.items()))
    return result
