"""JPEG damage: how hard a JPEG file was compressed, read from its quantization tables.

The ``default`` models learn from clean pictures; given a heavily compressed JPEG they enlarge
its 8x8 blocks and ringing as faithfully as the picture. A JPEG file says how hard it was
compressed: its quantization tables. :func:`estimate_quality` turns the luma table into the
libjpeg (IJG) quality scale that most encoders follow; :mod:`enhance.treatment` decides from it
which files get the JPEG treatment.
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["estimate_quality"]

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
