"""JPEG damage: how hard a JPEG file was compressed, and when to repair it before enlarging.

The ``default`` models learn from clean pictures; given a heavily compressed JPEG they enlarge
its 8x8 blocks and ringing as faithfully as the picture. A JPEG file says how hard it was
compressed: its quantization tables. :func:`estimate_quality` turns the luma table into the
libjpeg (IJG) quality scale that most encoders follow; :func:`wants_repair` says when the
``repair`` model (x1) should run first.

Measured on the public bench (``python -m benchmarks jpeg``: MATLAB-bicubic LR saved as JPEG,
x2, PSNR-Y against the HR), repair-then-enlarge against the default model alone (a trial before
the x2 model's last cycle): +0.92 dB at quality 30, +0.64 at 50, +0.44 at 60, +0.14 at 70, -0.07
at 75, -0.34 at 80 and -1.2 at 90, where the repair model (trained on quality 10-60) smooths
detail the file still has. Hence :data:`REPAIR_AT_OR_BELOW` = 70 for the chain, which serves the
zooms with no JPEG variant (x3, x4); the x2 variant goes further (:data:`VARIANT_AT_OR_BELOW`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["REPAIR_AT_OR_BELOW", "VARIANT_AT_OR_BELOW", "REPAIR_MODES", "estimate_quality", "wants_repair"]

#: ``auto`` repairs JPEG sources whose estimated quality is at most this
REPAIR_AT_OR_BELOW = 70
#: ``auto`` gives JPEG sources up to this quality the model's JPEG variant, where it has one
#: (the x2 variant against the x2 model alone, bench mean PSNR-Y: +0.39 dB at 80, +0.07 at 85,
#: -0.39 at 90, -1.02 at 95)
VARIANT_AT_OR_BELOW = 85
#: ``auto``: JPEG sources at or below :data:`REPAIR_AT_OR_BELOW`, with the ``default`` model;
#: ``always``: every file, before any model; ``never``
REPAIR_MODES = ("auto", "always", "never")

# the IJG (libjpeg) standard luminance table at quality 50 (Annex K of the JPEG standard), in
# natural (row by row) order, as Pillow gives quantization tables
_STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)


def estimate_quality(tables: Mapping[int, Sequence[int]] | None) -> int | None:
    """The IJG quality (1-100) that a JPEG's quantization tables correspond to.

    Args:
        tables: Pillow's ``Image.quantization`` (table id -> 64 divisors; table 0 is luma).

    Returns:
        The quality whose scaled standard luma table best matches table 0 (exact for files
        written by libjpeg and its descendants, the nearest equivalent for other encoders;
        divisors clipped at 255 by baseline JPEG are left out of the match); None when there
        is no usable table.
    """
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
    luma = [int(v) for v in tables[0]]
    kept = [i for i, v in enumerate(luma) if v < 255] or list(range(64))
    # IJG: table = std * scale / 100, so scale is the ratio of the sums
    scale = 100.0 * sum(luma[i] for i in kept) / sum(_STD_LUMA[i] for i in kept)
    if scale <= 0:
        return None
    quality = 5000.0 / scale if scale >= 100.0 else (200.0 - scale) / 2.0
    return int(max(1, min(100, round(quality))))


def wants_repair(mode: str, model: str, zoom: int, jpeg_quality: int | None, descreening: bool = False,
                 variant: bool = False) -> bool:
    """Whether a file gets the JPEG treatment: ``model``'s JPEG variant, or the ``repair`` model
    before ``model`` (``load_model(model, zoom, type="jpeg")`` picks which).

    Args:
        mode: one of :data:`REPAIR_MODES`.
        model: the model the file goes through (a registry name).
        zoom: the enlargement.
        jpeg_quality: :func:`estimate_quality` of the source, None when it is not a JPEG.
        descreening: the file goes through the descreener (trained on JPEG'd scans itself).
        variant: ``model`` has a JPEG variant of its own at ``zoom`` (then files up to
            :data:`VARIANT_AT_OR_BELOW` get it; the repair chain stops at :data:`REPAIR_AT_OR_BELOW`).
    """
    if mode not in REPAIR_MODES:
        raise ValueError(f"repair mode {mode!r}: choose one of {', '.join(REPAIR_MODES)}")
    if mode == "never" or descreening or model == "repair":
        return False
    if mode == "always":
        return True
    limit = VARIANT_AT_OR_BELOW if variant else REPAIR_AT_OR_BELOW
    return model == "default" and zoom > 1 and jpeg_quality is not None and jpeg_quality <= limit
