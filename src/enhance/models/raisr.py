"""RAISR: hashed learned filters (Romano, Isidoro and Milanfar, 2016), in NumPy/SciPy only.

An image is first enlarged with a cheap resampler (bicubic). Every output pixel is then hashed
by the local gradient structure of that cheap image (angle, strength and coherence of the
structure tensor over a Gaussian-weighted window) and by its position relative to the
low-resolution grid; a least-squares filter learned for that hash bucket turns the cheap
pixel's neighbourhood into the sharp one. Learning is one pass of accumulating ``AᵀA`` and
``Aᵀb`` per bucket and a regularised solve, with eight times the data from flips and
rotations obtained by permuting the accumulated matrices, so a model trains in minutes on a
laptop CPU. Filtering works on luma; chroma comes from the cheap upscale. A census-transform
test blends back toward the cheap image where filtering changed the local structure, which
suppresses halos and noise amplification. An optional second, smaller filter set
(``refine_patch``) is learned on the first one's output and applied after it: hashed again on
the sharper picture, it removes much of what the first pass leaves (a cascade).

This module is inference only and never imports torch; learning the filters is
:mod:`enhance.train.raisr`'s.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = ["RaisrConfig", "RaisrModel", "RaisrUpscaler", "cheap_upscale", "structure_tensor", "hash_buckets",
           "rgb_to_ycbcr", "ycbcr_to_rgb"]


@dataclass(frozen=True)
class RaisrConfig:
    """Hyper-parameters of a filter set.

    Attributes:
        scale: zoom (1 for repair).
        patch: filter side in pixels (odd).
        angles, strengths, coherences: hash bins.
        sigma: Gaussian weighting of the structure tensor window (pixels).
        census_blend: blend toward the cheap upscale where the census structure changed.
        grid: x1 only: hash the pixel's position in a ``grid`` x ``grid`` block lattice (8 for
            JPEG repair: ringing and blocking depend on where a pixel sits in its 8x8 block).
            At x2-x4 the lattice is always the ``scale`` x ``scale`` output pixels of one input
            pixel.
        refine_patch: side of a second filter set applied to the first one's output (0: none).
        regularisation: ridge added to each bucket's normal equations (relative to its trace).
    """

    scale: int = 2
    patch: int = 7
    angles: int = 24
    strengths: int = 3
    coherences: int = 3
    sigma: float = 1.5
    census_blend: bool = True
    regularisation: float = 1e-3
    grid: int = 0
    refine_patch: int = 0

    def check(self) -> None:
        """Refuse values no trained filter set has (a hostile or broken file's config).

        Raises:
            ValueError: naming the first field out of bounds.
        """
        ints = {"scale": (1, 4), "patch": (1, 21), "angles": (1, 64), "strengths": (1, 8), "coherences": (1, 8),
                "grid": (0, 16), "refine_patch": (0, 21)}
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"config {name}={v!r} is outside {lo}..{hi}")
        if self.patch % 2 == 0 or (self.refine_patch and self.refine_patch % 2 == 0):
            raise ValueError("config patch sides must be odd")
        for name in ("sigma", "regularisation"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 100:
                raise ValueError(f"config {name}={v!r} is outside 0..100")

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """The tensors a weight file of this configuration holds (:meth:`RaisrModel.save`)."""
        def one(cfg: "RaisrConfig", prefix: str) -> dict[str, tuple[int, ...]]:
            return {f"{prefix}filters": (cfg.buckets, cfg.patch * cfg.patch),
                    f"{prefix}strength_thr": (cfg.strengths - 1,), f"{prefix}coherence_thr": (cfg.coherences - 1,)}

        shapes = one(self, "")
        if self.refine_patch:
            shapes.update(one(self.refine_config(), "refine."))
        return shapes

    def refine_config(self) -> "RaisrConfig":
        """The configuration of the second (refining) filter set."""
        return replace(self, patch=self.refine_patch, refine_patch=0)

    @property
    def reach(self) -> int:
        """Input pixels per side that one output pixel depends on (filters plus hash window)."""
        hash_reach = max(8, int(2.5 * self.sigma + 0.5) + 3)  # Gaussian window, gradient, census
        return self.patch // 2 + hash_reach + (self.refine_patch // 2 + hash_reach if self.refine_patch else 0)

    @property
    def period(self) -> int:
        """Side of the position lattice (the scale, or ``grid`` at x1)."""
        return self.scale if self.scale > 1 else max(1, self.grid)

    @property
    def positions(self) -> int:
        return self.period ** 2

    @property
    def buckets(self) -> int:
        return self.angles * self.strengths * self.coherences * self.positions


# ----------------------------------------------------------------------------- colour


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] -> full-range BT.601 YCbCr in [0, 1] (Cb, Cr centred on 0.5)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 0.5 + (b - y) * 0.564
    cr = 0.5 + (r - y) * 0.713
    return np.stack([y, cb, cr], axis=-1).astype(np.float32)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`."""
    y, cb, cr = ycc[..., 0], ycc[..., 1] - 0.5, ycc[..., 2] - 0.5
    r = y + cr / 0.713
    b = y + cb / 0.564
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.stack([r, g, b], axis=-1).astype(np.float32)


# ----------------------------------------------------------------------------- hashing


def cheap_upscale(x: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic (Pillow, float) upscale of a 2-D float32 image."""
    if scale == 1:
        return x.astype(np.float32, copy=True)
    from PIL import Image

    h, w = x.shape
    im = Image.fromarray(np.ascontiguousarray(x, dtype=np.float32))
    return np.asarray(im.resize((w * scale, h * scale), Image.BICUBIC), dtype=np.float32)


def _gaussian(x: np.ndarray, sigma: float, truncate: float) -> np.ndarray:
    """Separable Gaussian blur of a 2-D image, mirror borders (``scipy.ndimage.gaussian_filter``
    with ``mode="reflect"``, written out so the inference path need not import scipy.ndimage)."""
    r = int(truncate * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k = (k / k.sum()).astype(x.dtype)
    h, w = x.shape
    p = np.pad(x, ((r, r), (0, 0)), mode="symmetric")
    y = k[0] * p[0:h]
    for i in range(1, 2 * r + 1):
        y += k[i] * p[i:i + h]
    p = np.pad(y, ((0, 0), (r, r)), mode="symmetric")
    out = k[0] * p[:, 0:w]
    for i in range(1, 2 * r + 1):
        out += k[i] * p[:, i:i + w]
    return out


def structure_tensor(img: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Angle in [0, pi), strength, coherence of the smoothed structure tensor, per pixel."""
    gy, gx = np.gradient(img)
    t = 2.5
    ixx = _gaussian(gx * gx, sigma, t)
    iyy = _gaussian(gy * gy, sigma, t)
    ixy = _gaussian(gx * gy, sigma, t)
    tr = ixx + iyy
    disc = np.sqrt(np.maximum((ixx - iyy) ** 2 + 4.0 * ixy * ixy, 0.0))
    l1 = np.maximum(0.5 * (tr + disc), 0.0)
    l2 = np.maximum(0.5 * (tr - disc), 0.0)
    angle = np.mod(0.5 * np.arctan2(2.0 * ixy, ixx - iyy), np.pi)
    s1, s2 = np.sqrt(l1), np.sqrt(l2)
    strength = s1
    coherence = (s1 - s2) / (s1 + s2 + 1e-8)
    return angle, strength, coherence


def _position_map(h: int, w: int, period: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    if period <= 1:
        return np.zeros((h, w), np.int32)
    py = ((np.arange(h) + offset[0]) % period)[:, None]
    px = ((np.arange(w) + offset[1]) % period)[None, :]
    return (py * period + px).astype(np.int32)


def _grid_phase(y: np.ndarray, period: int = 8) -> tuple[int, int]:
    """Offsets ``(oy, ox)`` that put a JPEG block lattice found in ``y`` (2-D) at position 0.

    Block edges show as larger steps between the last column of one block and the first of
    the next; the phase with the largest mean step wins when it stands clearly above the
    others, else the lattice is assumed to start at the image's corner (0, 0)."""
    def phase(d: np.ndarray) -> int:
        n = d.shape[1] - d.shape[1] % period
        if n < 4 * period:
            return 0
        col = np.abs(d[:, :n]).mean(axis=0).reshape(-1, period).mean(axis=0)  # col j: step into column j+1
        best = int(np.argmax(col))
        rest = np.delete(col, best)
        if col[best] < 1.15 * np.median(rest) + 1e-6:
            return 0
        return (-(best + 1)) % period

    return phase(np.diff(y, axis=0).T), phase(np.diff(y, axis=1))


def hash_buckets(img: np.ndarray, cfg: RaisrConfig, s_thr: np.ndarray, c_thr: np.ndarray,
                 offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The filter bucket of every pixel of ``img`` (``(H, W)`` float32 luma of the cheap upscale):
    its structure tensor's angle, strength and coherence bins (thresholds ``s_thr``, ``c_thr``)
    and its place in the position lattice (``offset`` shifts it), as ``(H, W)`` int32."""
    angle, strength, coherence = structure_tensor(img, cfg.sigma)
    a = np.minimum((angle * (cfg.angles / np.pi)).astype(np.int32), cfg.angles - 1)
    s = np.searchsorted(s_thr, strength).astype(np.int32)
    c = np.searchsorted(c_thr, coherence).astype(np.int32)
    pos = _position_map(img.shape[0], img.shape[1], cfg.period, offset)
    return (((a * cfg.strengths + s) * cfg.coherences + c) * cfg.positions + pos).astype(np.int32)


def _census(img: np.ndarray) -> np.ndarray:
    """8-bit census transform of a 2-D image (edge-replicated borders)."""
    p = np.pad(img, 1, mode="edge")
    h, w = img.shape
    code = np.zeros((h, w), np.uint8)
    bit = 0
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            code |= (p[dy:dy + h, dx:dx + w] > img).astype(np.uint8) << bit
            bit += 1
    return code


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.float32)


# ----------------------------------------------------------------------------- the model


class RaisrModel:
    """A trained filter set: ``filters`` ``(buckets, patch*patch)`` float32 and hash thresholds,
    and, when ``cfg.refine_patch`` is set, the refining set ``refine`` applied after it."""

    def __init__(self, cfg: RaisrConfig, filters: np.ndarray, strength_thr: np.ndarray, coherence_thr: np.ndarray,
                 refine: "RaisrModel | None" = None) -> None:
        if bool(cfg.refine_patch) != (refine is not None):
            raise ValueError("refine_patch and the refining filter set go together")
        self.cfg = cfg
        self.refine = refine
        self.filters = np.ascontiguousarray(filters, dtype=np.float32)
        self.strength_thr = np.asarray(strength_thr, np.float64)
        self.coherence_thr = np.asarray(coherence_thr, np.float64)
        self._taps_t = np.ascontiguousarray(self.filters.T)  # (taps, buckets) for per-tap lookups

    # -- persistence (safetensors, numpy framework: no torch)
    def save(self, path: str, metadata: dict[str, str] | None = None) -> None:
        """Write the filter set to ``path`` (safetensors), atomically."""
        from .weightfile import write_tensors

        meta = {"arch": "raisr", "config": json.dumps(asdict(self.cfg), sort_keys=True), "scale": str(self.cfg.scale)}
        meta.update(metadata or {})
        tensors = {"filters": self.filters, "strength_thr": self.strength_thr.astype(np.float32),
                   "coherence_thr": self.coherence_thr.astype(np.float32)}
        if self.refine is not None:
            tensors.update({"refine.filters": self.refine.filters,
                            "refine.strength_thr": self.refine.strength_thr.astype(np.float32),
                            "refine.coherence_thr": self.refine.coherence_thr.astype(np.float32)})
        write_tensors(path, tensors, meta)

    @classmethod
    def load(cls, path: str) -> "RaisrModel":
        """Read a filter set written by :meth:`save`."""
        from ..errors import ModelError
        from .weightfile import read_tensors

        t, meta = read_tensors(path)
        if meta.get("arch") != "raisr":
            raise ModelError(f"{path}: not a RAISR model")
        cfg = RaisrConfig(**json.loads(meta["config"]))
        refine = None
        if cfg.refine_patch:
            refine = cls(cfg.refine_config(), t["refine.filters"], t["refine.strength_thr"], t["refine.coherence_thr"])
        return cls(cfg, t["filters"], t["strength_thr"], t["coherence_thr"], refine)

    # -- inference
    def filter_luma(self, cheap: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Apply the filters to a cheap-upscaled luma image ``(H, W)`` float32; same shape out.
        ``offset`` shifts the position lattice (x1 ``grid`` models)."""
        cfg = self.cfg
        r = cfg.patch // 2
        buckets = hash_buckets(cheap, cfg, self.strength_thr, self.coherence_thr, offset)
        padded = np.pad(cheap, r, mode="reflect")
        h, w = cheap.shape
        out = np.zeros((h, w), np.float32)
        k = 0
        for dy in range(cfg.patch):
            for dx in range(cfg.patch):
                wk = np.take(self._taps_t[k], buckets)
                out += padded[dy:dy + h, dx:dx + w] * wk
                k += 1
        if cfg.census_blend:
            changed = _POPCOUNT[_census(out) ^ _census(cheap)] / 8.0
            wgt = 1.0 - changed
            out = wgt * out + (1.0 - wgt) * cheap
        return out

    def _stages(self, cheap: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
        out = self.filter_luma(cheap, offset)
        return out if self.refine is None else self.refine.filter_luma(out, offset)

    def upscale_luma(self, y: np.ndarray, threads: int = 2) -> np.ndarray:
        """Cheap upscale then filter a luma image ``(h, w)`` in [0, 1] -> ``(h*s, w*s)``.

        Large images are split into horizontal bands (with a margin) filtered on ``threads``
        threads; NumPy releases the GIL in the heavy loops.
        """
        cheap = cheap_upscale(y, self.cfg.scale)
        offset = _grid_phase(cheap, self.cfg.period) if self.cfg.scale == 1 and self.cfg.period > 1 else (0, 0)
        h = cheap.shape[0]
        band = 128
        if threads <= 1 or h <= 2 * band:
            return self._stages(cheap, offset)
        m = self.cfg.reach  # filter radius + structure-tensor reach, per stage
        # band edges on multiples of the lattice keep each pixel's position bucket unchanged
        p = self.cfg.period
        step = band - band % p
        starts = list(range(0, h, step))
        out = np.empty_like(cheap)

        def work(y0: int) -> None:
            y1 = min(h, y0 + step)
            a0 = max(0, y0 - m)
            a0 -= a0 % p
            a1 = min(h, y1 + m)
            res = self._stages(cheap[a0:a1], offset)
            out[y0:y1] = res[y0 - a0:y1 - a0]

        with ThreadPoolExecutor(threads) as ex:
            list(ex.map(work, starts))
        return out


class RaisrUpscaler:
    """A RAISR filter set behind the :class:`~enhance.models.base.Upscaler` interface."""

    def __init__(self, model: RaisrModel, name: str = "raisr", threads: int = 2) -> None:
        self.model = model
        self.name = name
        self.scale = model.cfg.scale
        self.context = model.cfg.reach
        self.multiple_of = 1
        self.threads = threads

    @classmethod
    def from_file(cls, path: str, name: str = "raisr") -> "RaisrUpscaler":
        return cls(RaisrModel.load(path), name)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        s = self.scale
        if x.shape[2] == 1:
            return self.model.upscale_luma(x[:, :, 0], self.threads)[:, :, None]
        ycc = rgb_to_ycbcr(x)
        y = self.model.upscale_luma(ycc[:, :, 0], self.threads)
        cb = cheap_upscale(ycc[:, :, 1], s)
        cr = cheap_upscale(ycc[:, :, 2], s)
        return ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1))
