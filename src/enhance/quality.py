"""Scores of one picture against another: SSIMULACRA2 (perceptual, 0-100) and PSNR, and the
verdict words a publisher reads.

SSIMULACRA2 comes from the PyPI package ``ssimulacra2`` (NumPy/SciPy, no weights; the
``quality`` extra); PSNR is computed here on 8-bit RGB.
"""

from __future__ import annotations

import io

import numpy as np

from .errors import UsageError

__all__ = ["ssimulacra2", "psnr", "verdict", "VERDICTS"]

#: SSIMULACRA2 bands, best first: at or above the score, the word
VERDICTS = ((90.0, "visually lossless"), (70.0, "high"), (50.0, "medium"), (-1e9, "low"))


def _png(a: np.ndarray) -> io.BytesIO:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(buf, format="PNG", compress_level=0)
    buf.seek(0)
    return buf


def _rgb8(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim == 2:
        a = a[:, :, None]
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (1, 3):
        raise UsageError(f"{name} must be (H, W[, 1 or 3]) uint8, not {a.dtype} {a.shape}")
    return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a


def ssimulacra2(reference: np.ndarray, distorted: np.ndarray) -> float:
    """SSIMULACRA2 of ``distorted`` against ``reference``, both ``(H, W, 3)`` uint8 sRGB of one
    size: 100 is identical, 90 visually lossless, 70 high, 50 medium quality.

    Raises:
        UsageError: the arrays differ in size or are not 8-bit RGB or gray.
        EnhanceError: the ``ssimulacra2`` package is not installed (the ``quality`` extra).
    """
    a, b = _rgb8(reference, "reference"), _rgb8(distorted, "distorted")
    if a.shape != b.shape:
        raise UsageError(f"reference {a.shape} and distorted {b.shape} differ in size")
    try:
        from ssimulacra2 import compute_ssimulacra2
    except ImportError:
        from .errors import EnhanceError

        raise EnhanceError("the pipeline check needs SSIMULACRA2: pip install 'enhance[quality]'") from None
    return float(compute_ssimulacra2(_png(a), _png(b)))


def psnr(reference: np.ndarray, distorted: np.ndarray) -> float:
    """PSNR in dB of ``distorted`` against ``reference`` (8-bit, all channels; 99 for identical)."""
    a, b = _rgb8(reference, "reference"), _rgb8(distorted, "distorted")
    if a.shape != b.shape:
        raise UsageError(f"reference {a.shape} and distorted {b.shape} differ in size")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def verdict(score: float) -> str:
    """The band of a SSIMULACRA2 score: "visually lossless", "high", "medium" or "low"."""
    return next(word for floor, word in VERDICTS if score >= floor)
