"""The print track: bench images printed with a halftone screen, scanned back, and descreened.

Each bench image is taken as a continuous-tone original already at the scan's resolution and
goes through :func:`enhance.train.halftone.print_and_scan` at a few fixed settings (seeded per
image and setting). A method gets the simulated scan and must return the original's pixel grid;
the score is PSNR-Y against the original (its luma for a gray print) with a 4 px border left
out. The residual screen energy is the power of the error ``out - original`` (luma) in a ring
around the screen frequency, per pixel, in dB (lower is better); FM prints have no such ring.

Baselines run in the same pass: a Gaussian blur and a median filter (each at the size that is
best for that setting, chosen from a grid over the whole bench), and an FFT notch filter that
finds the screen's peaks in the scan's spectrum and pulls them down to the local background.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.ndimage import gaussian_filter, maximum_filter, median_filter

from enhance.train.halftone import PrintSettings, gray_target, luma, print_and_scan

from .metrics import psnr_y
from .protocol import BenchImage

#: ``method(scan_rgb_uint8) -> descreened_rgb_uint8`` on the same grid.
Descreener = Callable[[np.ndarray], np.ndarray]

BORDER = 4


@dataclass(frozen=True)
class PrintCase:
    key: str
    label: str
    settings: PrintSettings


PRINT_SETTINGS: tuple[PrintCase, ...] = (
    PrintCase("150lpi-600dpi", "CMYK 150 lpi scanned at 600 dpi",
              PrintSettings(lpi=150, dpi=600, colour=True, dot_gain=0.15, paper=0.01, scan_blur=0.5, scan_noise=0.005)),
    PrintCase("133lpi-400dpi", "CMYK 133 lpi scanned at 400 dpi",
              PrintSettings(lpi=133, dpi=400, colour=True, dot_gain=0.15, paper=0.01, scan_blur=0.5, scan_noise=0.005)),
    PrintCase("85lpi-300dpi", "newspaper: CMYK 85 lpi, heavy dot gain, scanned at 300 dpi",
              PrintSettings(lpi=85, dpi=300, colour=True, dot_gain=0.25, paper=0.03, scan_blur=0.6, scan_noise=0.008)),
    PrintCase("gray-120lpi-600dpi", "grayscale 120 lpi at 45 degrees scanned at 600 dpi",
              PrintSettings(lpi=120, dpi=600, angle=45, colour=False, dot_gain=0.15, paper=0.01, scan_blur=0.5,
                            scan_noise=0.005)),
    PrintCase("fm-600dpi", "CMYK stochastic (FM) screen scanned at 600 dpi",
              PrintSettings(dpi=600, colour=True, screen="fm", fm_dot=0.8, dot_gain=0.1, paper=0.01, scan_blur=0.5,
                            scan_noise=0.005)),
)


_SCANS: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}


def simulate(im: BenchImage, case: PrintCase, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The scan of ``im`` printed as ``case`` and its ground truth, both ``(H, W, 3)`` uint8
    (computed once per image and setting)."""
    key = (im.name, case.key, index)
    if key not in _SCANS:
        _SCANS[key] = _simulate(im, case, index)
    return _SCANS[key]


def _simulate(im: BenchImage, case: PrintCase, index: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 * index + sum(map(ord, case.key)))
    scan = print_and_scan(im.hr.astype(np.float32) / 255.0, case.settings, rng)
    scan8 = np.clip(np.round(scan * 255.0), 0, 255).astype(np.uint8)
    return scan8, (im.hr if case.settings.colour else gray_target(im.hr))


def screen_energy(out: np.ndarray, truth: np.ndarray, case: PrintCase) -> float | None:
    """Power of the luma error in a ring of +-15 % around the screen frequency, dB per pixel."""
    if case.settings.screen != "am":
        return None
    err = luma(out) - luma(truth)
    err = err[BORDER:-BORDER, BORDER:-BORDER]
    h, w = err.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    spec = np.abs(np.fft.fftshift(np.fft.fft2(err * win))) ** 2 / (win**2).sum()
    fy = (np.arange(h) - h // 2) / h
    fx = (np.arange(w) - w // 2) / w
    r = np.hypot(fy[:, None], fx[None, :])
    f0 = 1.0 / case.settings.period
    ring = (r > 0.85 * f0) & (r < 1.15 * f0)
    return float(10 * np.log10(spec[ring].sum() / (h * w) + 1e-12))


def score(method: Descreener, images: list[BenchImage], case: PrintCase) -> list[dict[str, object]]:
    """Run ``method`` on every image's scan for one setting; PSNR-Y and residual screen energy."""
    rows = []
    for i, im in enumerate(images):
        scan, truth = simulate(im, case, i)
        out = method(scan)
        if out.shape != truth.shape:
            raise RuntimeError(f"{im.name}: method returned {out.shape}, expected {truth.shape}")
        rows.append({"image": im.name, "class": im.klass, "psnr": psnr_y(out, truth, BORDER),
                     "screen_db": screen_energy(out, truth, case)})
    return rows


def _to8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def gaussian(sigma: float) -> Descreener:
    """Gaussian blur of every channel with ``sigma`` pixels."""
    return lambda scan: _to8(gaussian_filter(scan.astype(np.float64), (sigma, sigma, 0), mode="reflect"))


def median(size: int) -> Descreener:
    """Median filter of every channel over a ``size`` x ``size`` window."""
    return lambda scan: median_filter(scan, size=(size, size, 1), mode="reflect")


def notch(scan: np.ndarray) -> np.ndarray:
    """FFT notch filter: per channel, spectral peaks well above the local background (outside
    the lowest frequencies, where the picture lives) are pulled down to that background, and
    their neighbours with them; harmonics go too."""
    out = np.empty(scan.shape, dtype=np.float64)
    h, w = scan.shape[:2]
    fy = (np.arange(h) - h // 2) / h
    fx = (np.arange(w) - w // 2) / w
    r = np.hypot(fy[:, None], fx[None, :])
    for c in range(scan.shape[2]):
        x = scan[..., c].astype(np.float64)
        mean = x.mean()
        spec = np.fft.fftshift(np.fft.fft2(x - mean))
        logm = np.log(np.abs(spec) + 1e-9)
        background = median_filter(logm, size=15, mode="reflect")
        peaks = (logm - background > 1.5) & (r > 0.08)
        peaks = maximum_filter(peaks, size=5)  # the peak's skirt
        gain = np.where(peaks, np.minimum(1.0, np.exp(background - logm)), 1.0)
        out[..., c] = np.real(np.fft.ifft2(np.fft.ifftshift(spec * gain))) + mean
    return _to8(out)


GAUSS_SIGMAS = (0.6, 0.8, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
MEDIAN_SIZES = (3, 5, 7, 9)


def best_of(make: Callable[[float], Descreener], params: tuple[float, ...], images: list[BenchImage],
            case: PrintCase) -> tuple[float, list[dict[str, object]]]:
    """The parameter with the best mean PSNR-Y for this setting, and its rows."""
    best: tuple[float, list[dict[str, object]]] | None = None
    for p in params:
        rows = score(make(p), images, case)
        if best is None or np.mean([r["psnr"] for r in rows]) > np.mean([r["psnr"] for r in best[1]]):
            best = (p, rows)
    assert best is not None
    return best


def crop_sheet(images: list[BenchImage], case: PrintCase, methods: dict[str, Descreener], path: str,
               image: str = "coffee", crop: int = 160) -> None:
    """A before/after sheet for one setting: original, scan and each method on one crop, 2x
    nearest-neighbour so the dots stay visible, labelled."""
    from .sheet import panel_strip

    idx = next((i for i, im in enumerate(images) if im.name == image), 0)
    im = images[idx]
    scan, truth = simulate(im, case, idx)
    h, w = truth.shape[:2]
    y0, x0 = max(0, h // 2 - crop // 2), max(0, w // 2 - crop // 2)
    panels = [("original", truth), ("scan", scan)] + [(k, m(scan)) for k, m in methods.items()]
    panel_strip([(name, arr[y0:y0 + crop, x0:x0 + crop]) for name, arr in panels], zoom=2).save(path)


def passthrough_sheet(images: list[BenchImage], methods: dict[str, Descreener], path: str,
                      image: str = "huckfinn_scan", at: tuple[int, int, int, int] = (380, 40, 160, 200)) -> None:
    """Unscreened line work forced through each method: a crop of ``image`` (by default the
    hatched dress of huckfinn's engraving: top, left, height, width), 2x nearest-neighbour."""
    from .sheet import panel_strip

    im = next((im for im in images if im.name == image), None)
    if im is None:
        return
    y0, x0, h, w = at
    panels = [("input (no screen)", im.hr)] + [(k, m(im.hr)) for k, m in methods.items()]
    panel_strip([(name, arr[y0:y0 + h, x0:x0 + w]) for name, arr in panels], zoom=2).save(path)


def waifu2x_noise3() -> Descreener | None:
    """Peer: waifu2x cunet with its strongest noise reduction (noise3, x2), brought back to the
    scan's grid with MATLAB bicubic. None when the peer is not installed."""
    from .methods import waifu2x

    up = waifu2x("cunet", variant="noise3_scale2.0x_model.onnx")
    if up is None:
        return None
    from enhance.resize import imresize

    def run(scan: np.ndarray) -> np.ndarray:
        big = up(scan, 2)
        return _to8(imresize(big, output_shape=scan.shape[:2]))

    return run


def ours(model: str = "default", ensemble: int = 1) -> Descreener:
    """Enhance's descreening (``load_model(model, 1, type="print", ensemble=...)``) through the
    tiled pipeline."""
    from . import methods

    m = methods.ours(model, type="print", ensemble=ensemble)
    return lambda scan: m(scan, 1)


PASSTHROUGH = ("huckfinn_scan", "sailboat_lineart", "page")


def passthrough(method: Descreener, images: list[BenchImage]) -> list[dict[str, object]]:
    """Unscreened line work through a descreener (as ``--type=print`` forces it): PSNR-Y of the
    output against the input, and the share of the input's gradient energy that is kept."""
    rows = []
    for im in images:
        if im.name not in PASSTHROUGH:
            continue
        out = method(im.hr)
        gi = np.gradient(luma(im.hr))
        go = np.gradient(luma(out))
        kept = float(sum((g**2).sum() for g in go) / max(1e-9, sum((g**2).sum() for g in gi)))
        rows.append({"image": im.name, "psnr_vs_input": psnr_y(out, im.hr, BORDER), "gradient_energy_kept": kept})
    return rows


def run_track(images: list[BenchImage], sheets_dir: str | None = None, log: Callable[[str], None] = lambda s: None,
              with_peers: bool = True) -> dict[str, object]:
    """Every setting: baselines (best Gaussian, best median, notch), peers, and Enhance."""
    from pathlib import Path

    methods: dict[str, Descreener | None] = {"notch": notch, "enhance descreen": ours(),
                                             "enhance descreen --ensemble 8": ours(ensemble=8)}
    if with_peers:
        methods["waifu2x cunet noise3"] = waifu2x_noise3()
    out: dict[str, object] = {}
    for case in PRINT_SETTINGS:
        sigma, g_rows = best_of(gaussian, GAUSS_SIGMAS, images, case)
        size, m_rows = best_of(median, MEDIAN_SIZES, images, case)  # type: ignore[arg-type]
        entry: dict[str, object] = {"label": case.label, "period": case.settings.period if case.settings.screen == "am" else None,
                                    "methods": {f"gaussian (best sigma {sigma})": g_rows, f"median (best {int(size)}x{int(size)})": m_rows}}
        for name, fn in methods.items():
            if fn is not None:
                entry["methods"][name] = score(fn, images, case)  # type: ignore[index]
        for name, rows in entry["methods"].items():  # type: ignore[union-attr]
            log(f"print {case.key} {name}: {np.mean([r['psnr'] for r in rows]):.2f} dB")
        out[case.key] = entry
        if case is PRINT_SETTINGS[0]:
            out["_passthrough"] = {k: passthrough(fn, images) for k, fn in methods.items()  # type: ignore[arg-type]
                                   if k.startswith("enhance descreen")}
            out["_passthrough"][f"gaussian {sigma}"] = passthrough(gaussian(sigma), images)  # type: ignore[index]
        if sheets_dir:
            Path(sheets_dir).mkdir(parents=True, exist_ok=True)
            sheet = {f"gauss {sigma}": gaussian(sigma), "notch": notch}
            sheet.update({k: v for k, v in methods.items() if v is not None and k != "notch"})
            crop_sheet(images, case, sheet, str(Path(sheets_dir) / f"print_{case.key}.png"))
            if case is PRINT_SETTINGS[0]:
                keep = {k: v for k, v in methods.items() if v is not None and k.startswith("enhance descreen")}
                passthrough_sheet(images, {**keep, f"gauss {sigma}": gaussian(sigma)},
                                  str(Path(sheets_dir) / "print_passthrough_huckfinn_scan.png"))
    return out
