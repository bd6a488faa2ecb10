"""The mixed-page track: pages of type with a halftoned photo among them, as publishers scan.

Each page is a synthetic page of type (:func:`enhance.train.textpage.text_page`) with a bench
photo set into it off its centre; the whole page is then printed and scanned (the type in solid
ink, as a 1-bit plate prints it, the photo screened), on a press the descreener learned from (family A) and on the held-out
one (family B, :mod:`benchmarks.pressb`) at 600 and at 300 dpi. The command runs at ``--zoom=1`` three ways: plain,
``--type=print`` (the whole page descreened) and ``--auto`` (only the regions the screen map finds).

The best Gaussian blur (its sigma chosen per page on the photo) is scored on the photo too.
Two figures per page and way: PSNR-Y of the photo region (a 16 px margin inside it left out)
against the print seen without its screen, and PSNR-Y of the type (everything 48 px or more away
from the photo) against the plain path's output, which is what ``--auto`` must leave alone
(infinite when it is left exactly so; reported capped at 99 dB).
"""

from __future__ import annotations

from pathlib import Path

from typing import Callable

import numpy as np

from enhance.train.halftone import PrintSettings, print_and_scan
from enhance.train.textpage import text_page

from .metrics import psnr, rgb_to_y
from .finetrack import SETTINGS as FINE
from .pressb import SETTINGS as B_SETTINGS
from .pressb import print_and_scan_b, to8
from .printtrack import GAUSS_SIGMAS, gaussian
from .protocol import BenchImage

PHOTOS = ("coffee", "boats", "china", "chelsea")
PAGE = (1024, 768)  # height, width in scan pixels
PRINTS: dict[str, tuple[str, Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]]] = {}


def _print_a(settings: PrintSettings) -> Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    def f(page: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        scan, clean = print_and_scan(page.astype(np.float32) / 255.0, settings, rng, screenless=True)
        return to8(scan), to8(clean)
    return f


PRINTS["A-133lpi-400dpi"] = ("A: CMYK 133 lpi at 400 dpi", _print_a(
    PrintSettings(lpi=133, dpi=400, colour=True, dot_gain=0.15, paper=0.01, scan_blur=0.5, scan_noise=0.005)))
PRINTS["B-chain-150lpi-600dpi"] = ("B (held out): " + B_SETTINGS["B-chain-150lpi-600dpi"][0],
                                   lambda page, rng: print_and_scan_b(page, B_SETTINGS["B-chain-150lpi-600dpi"][1], rng))
# the scan most publishers make: a magazine page at 300 dpi, its 150 lpi screen 2 px, the type's
# strokes and spacing of a size with it (the fine-screen track's held-out setting)
PRINTS["B-chain-150lpi-300dpi"] = ("B (held out) at 300 dpi: " + FINE["B-chain-150lpi-300dpi"][1],
                                   lambda page, rng: print_and_scan_b(page, FINE["B-chain-150lpi-300dpi"][2], rng))


def make_page(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A page of type ``PAGE`` with ``photo`` (cropped to at most 400 x 520) set off centre;
    returns the page ``(H, W, 3)`` uint8 and the photo's box (top, left, height, width)."""
    h, w = PAGE
    # the generator's page of type as ink on bare paper: the press lays down black ink for the
    # letters and none between them (its paper tint is the press's paper, not a screened tint)
    t = text_page(h, w, rng).astype(np.float64).mean(axis=2)
    lo, hi = np.percentile(t, 0.5), np.percentile(t, 99.5)
    ink = np.clip((hi - t) / max(1.0, hi - lo), 0, 1)
    if np.median(ink) > 0.5:  # reversed type (light letters on a dark ground): the ground is the ink
        ink = 1.0 - ink
    # type is set solid (a 1-bit plate at the imagesetter's resolution), not screened: its edges
    # are the press's and the scanner's, not grey ramps the screen would break into dots
    ink = (ink > 0.5).astype(np.float64)
    page = np.repeat(np.round(255 * (1 - ink))[..., None], 3, axis=2).astype(np.uint8)
    ph, pw = min(400, photo.shape[0]), min(520, photo.shape[1])
    top = int(rng.integers(40, h - ph - 40))
    left = int(rng.integers(20, w - pw - 20))
    page[top:top + ph, left:left + pw] = photo[:ph, :pw]
    return page, (top, left, ph, pw)


def _psnr_masked(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return min(99.0, psnr(rgb_to_y(a)[mask], rgb_to_y(b)[mask]))


def page_sheet(scan: np.ndarray, clean: np.ndarray, outs: dict[str, np.ndarray], box: tuple[int, int, int, int],
               path: str, crop: int = 192) -> None:
    """A before/after sheet of one page: a crop across the photo's top-left corner (type above and
    beside it, the photo below), as scanned, as the print without its screen, and each way, 2x
    nearest-neighbour so the dots and the letters' edges stay visible."""
    from .sheet import panel_strip

    t, l, _ph, _pw = box
    y0, x0 = max(0, t - crop // 2), max(0, l - crop // 2)
    panels = [("scan", scan), ("print without its screen", clean)] + list(outs.items())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    panel_strip([(name, a[y0:y0 + crop, x0:x0 + crop]) for name, a in panels], zoom=2).save(path)


def run_track(images: list[BenchImage], log: Callable[[str], None] = lambda s: None,
              sheets_dir: str | None = None) -> dict[str, object]:
    """Every print and page: photo and type PSNR-Y for plain, --type=print and --auto at x1;
    with ``sheets_dir``, a crop sheet of each press's first page (``page_<press>.png``)."""
    from enhance.image import ImageMeta
    from enhance.treatment import ModelRequest, Treatment
    from enhance.upscaling import upscale_pixels

    ways = {"plain": Treatment(ModelRequest(None, 1)),
            "--type=print": Treatment(ModelRequest(None, 1, type="print")),
            "--auto": Treatment(ModelRequest(None, 1), auto=True)}
    photos = [im for im in images if im.name in PHOTOS]
    out: dict[str, object] = {}
    for key, (label, press) in PRINTS.items():
        rows = []
        for i, im in enumerate(photos):
            rng = np.random.default_rng(7000 + 31 * i + sum(map(ord, key)))
            page, (t, l, ph, pw) = make_page(im.hr, rng)
            scan, clean = press(page, rng)
            photo = np.zeros(scan.shape[:2], bool)
            photo[t + 16:t + ph - 16, l + 16:l + pw - 16] = True
            text = np.ones(scan.shape[:2], bool)
            text[max(0, t - 48):t + ph + 48, max(0, l - 48):l + pw + 48] = False
            text[:4], text[-4:], text[:, :4], text[:, -4:] = False, False, False, False
            outs, notes = {}, {}
            for way, treat in ways.items():
                model, n = treat.for_file(scan, ImageMeta("RGB"))
                o = upscale_pixels(scan, "RGB", model)
                assert o is not None
                outs[way], notes[way] = o, n
            if sheets_dir and i == 0:
                page_sheet(scan, clean, outs, (t, l, ph, pw), f"{sheets_dir}/page_{key}.png")
            row: dict[str, object] = {"page": im.name}
            for way, o in outs.items():
                row[way] = {"photo": _psnr_masked(o, clean, photo), "type": _psnr_masked(o, outs["plain"], text),
                            "notes": notes[way]}
            # the blur a user would reach for, its sigma chosen on this very photo (the most it can do)
            row["best blur"] = max(({"photo": _psnr_masked(gaussian(sg)(scan), clean, photo), "sigma": sg}
                                    for sg in GAUSS_SIGMAS), key=lambda r: float(r["photo"]))
            rows.append(row)
            log(f"page {key} {im.name}: " + ", ".join(
                f"{w} photo {row[w]['photo']:.2f} type {row[w]['type']:.2f}" for w in ways))  # type: ignore[index]
        out[key] = {"label": label, "pages": rows}
    return out
