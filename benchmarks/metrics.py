"""PSNR-Y and SSIM-Y exactly as the benchmark protocol states them (MATLAB conventions)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

__all__ = ["rgb_to_y", "psnr_y", "ssim_y", "psnr"]


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma as MATLAB's rgb2ycbcr computes it, in float, not rounded.

    Args:
        rgb: ``(H, W, 3)`` in 0..255 (any dtype).

    Returns:
        ``(H, W)`` float64 in 16..235.
    """
    x = rgb.astype(np.float64)
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border > 0 else a


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB between two arrays of the same shape (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def psnr_y(sr: np.ndarray, hr: np.ndarray, border: int) -> float:
    """PSNR of the Y channel with ``border`` pixels cropped from each side (peak 255)."""
    return psnr(_crop(rgb_to_y(sr), border), _crop(rgb_to_y(hr), border))


def _gauss_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _filter_valid(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = correlate1d(correlate1d(img, w, axis=0, mode="constant"), w, axis=1, mode="constant")
    r = len(w) // 2
    return out[r:-r, r:-r]


def ssim_y(sr: np.ndarray, hr: np.ndarray, border: int) -> float:
    """SSIM (Wang et al.: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, valid region) on Y."""
    a = _crop(rgb_to_y(sr), border)
    b = _crop(rgb_to_y(hr), border)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gauss_window()
    mu1, mu2 = _filter_valid(a, w), _filter_valid(b, w)
    s11 = _filter_valid(a * a, w) - mu1 * mu1
    s22 = _filter_valid(b * b, w) - mu2 * mu2
    s12 = _filter_valid(a * b, w) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    return float(m.mean())


def ssimulacra2_or_none(out: np.ndarray, hr: np.ndarray) -> float | None:
    """SSIMULACRA2 of ``out`` against ``hr`` (both ``(H, W, 3)`` uint8; about -inf..100, higher is
    better); None where the ``quality`` extra (the ``ssimulacra2`` package) is not installed."""
    import importlib.util

    if importlib.util.find_spec("ssimulacra2") is None:
        return None
    from enhance.quality import ssimulacra2

    return ssimulacra2(hr, out)
