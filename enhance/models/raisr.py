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

This module never imports torch.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Callable, Iterable

import numpy as np

__all__ = ["RaisrConfig", "RaisrModel", "RaisrUpscaler", "RaisrTrainer", "recommended_config", "train_filters", "train_pairs_from_hr",
           "jpeg_damage", "luma", "rgb_to_ycbcr", "ycbcr_to_rgb"]


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


def _cheap_upscale(x: np.ndarray, scale: int) -> np.ndarray:
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


def _structure(img: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _hash(img: np.ndarray, cfg: RaisrConfig, s_thr: np.ndarray, c_thr: np.ndarray,
          offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    angle, strength, coherence = _structure(img, cfg.sigma)
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
        buckets = _hash(cheap, cfg, self.strength_thr, self.coherence_thr, offset)
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
        cheap = _cheap_upscale(y, self.cfg.scale)
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
        cb = _cheap_upscale(ycc[:, :, 1], s)
        cr = _cheap_upscale(ycc[:, :, 2], s)
        return ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1))


# ----------------------------------------------------------------------------- training


def _tap_permutation(patch: int, rot: int, flip: bool) -> np.ndarray:
    """Index array ``perm`` so that ``patch_vec[perm]`` is the patch after the transform."""
    idx = np.arange(patch * patch).reshape(patch, patch)
    t = np.rot90(idx, rot)
    if flip:
        t = t[:, ::-1]
    return t.ravel()


def _bucket_permutation(cfg: RaisrConfig, rot: int, flip: bool) -> np.ndarray:
    """Where each bucket's statistics go when the image is rotated by ``rot`` x 90 degrees
    counter-clockwise (after which it is flipped left-right if ``flip``)."""
    s = cfg.period
    out = np.empty(cfg.buckets, np.int64)
    half = cfg.angles // 2
    for a in range(cfg.angles):
        for st in range(cfg.strengths):
            for c in range(cfg.coherences):
                for py in range(s):
                    for px in range(s):
                        na, ny, nx = a, py, px
                        for _ in range(rot):  # rot90 CCW: (y, x) -> (W-1-x, y); angle -> angle + 90
                            na = (na + half) % cfg.angles
                            ny, nx = (s - 1 - nx) % s, ny
                        if flip:  # x -> W-1-x; angle -> 180 - angle
                            na = (cfg.angles - 1 - na) % cfg.angles
                            nx = (s - 1 - nx) % s
                        src = (((a * cfg.strengths + st) * cfg.coherences + c) * cfg.positions) + py * s + px
                        dst = (((na * cfg.strengths + st) * cfg.coherences + c) * cfg.positions) + ny * s + nx
                        out[src] = dst
    return out


class RaisrTrainer:
    """Accumulates per-bucket normal equations over image pairs, then solves for the filters.

    Usage::

        tr = RaisrTrainer(RaisrConfig(scale=2))
        tr.fit_thresholds(hr_lumas)            # strength/coherence quantiles
        for lr_y, hr_y in pairs: tr.add(lr_y, hr_y)
        model = tr.solve()
    """

    def __init__(self, cfg: RaisrConfig) -> None:
        self.cfg = cfg
        k = cfg.patch * cfg.patch
        self.ata = np.zeros((cfg.buckets, k, k), np.float64)
        self.atb = np.zeros((cfg.buckets, k), np.float64)
        self.counts = np.zeros(cfg.buckets, np.int64)
        self.strength_thr = np.zeros(cfg.strengths - 1)
        self.coherence_thr = np.zeros(cfg.coherences - 1)

    def fit_thresholds(self, cheap_images: Iterable[np.ndarray], max_samples: int = 2_000_000, seed: int = 0) -> None:
        """Learn strength and coherence bin edges as quantiles over cheap-upscaled images."""
        rng = np.random.default_rng(seed)
        ss, cs = [], []
        for img in cheap_images:
            _a, s, c = _structure(img, self.cfg.sigma)
            n = s.size
            take = rng.choice(n, size=min(n, 200_000), replace=False)
            ss.append(s.ravel()[take])
            cs.append(c.ravel()[take])
        s_all, c_all = np.concatenate(ss)[:max_samples], np.concatenate(cs)[:max_samples]
        q_s = np.linspace(0, 1, self.cfg.strengths + 1)[1:-1]
        q_c = np.linspace(0, 1, self.cfg.coherences + 1)[1:-1]
        self.strength_thr = np.quantile(s_all, q_s)
        self.coherence_thr = np.quantile(c_all, q_c)

    def add(self, cheap: np.ndarray, target: np.ndarray, stride: int = 1) -> None:
        """Accumulate one pair: ``cheap`` (the cheap upscale) and ``target`` (HR luma), same shape."""
        cfg = self.cfg
        r = cfg.patch // 2
        buckets = _hash(cheap, cfg, self.strength_thr, self.coherence_thr)
        h, w = cheap.shape
        ys = slice(r, h - r, stride)
        xs = slice(r, w - r, stride)
        win = np.lib.stride_tricks.sliding_window_view(cheap, (cfg.patch, cfg.patch))  # (h-2r, w-2r, p, p)
        a = win[::stride, ::stride].reshape(-1, cfg.patch * cfg.patch).astype(np.float32)
        b = target[ys, xs].reshape(-1).astype(np.float32)
        bk = buckets[ys, xs].reshape(-1)
        order = np.argsort(bk, kind="stable")
        bk_sorted = bk[order]
        bounds = np.flatnonzero(np.diff(bk_sorted)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(bk_sorted)]])
        for s0, e0 in zip(starts, ends):
            idx = order[s0:e0]
            bid = bk_sorted[s0]
            ai = a[idx]
            self.ata[bid] += (ai.T @ ai).astype(np.float64)
            self.atb[bid] += (ai.T @ b[idx]).astype(np.float64)
            self.counts[bid] += e0 - s0

    def symmetrise(self) -> None:
        """Add the statistics of the 7 other flips/rotations by permuting the accumulators."""
        ata, atb, cnt = self.ata.copy(), self.atb.copy(), self.counts.copy()
        for rot in range(4):
            for flip in (False, True):
                if rot == 0 and not flip:
                    continue
                tp = _tap_permutation(self.cfg.patch, rot, flip)
                bp = _bucket_permutation(self.cfg, rot, flip)
                # a transformed patch vector is a[tp]; its statistics land in bucket bp[b]
                np.add.at(self.ata, bp, ata[:, tp][:, :, tp])
                np.add.at(self.atb, bp, atb[:, tp])
                np.add.at(self.counts, bp, cnt)

    def solve(self, progress: Callable[[int, int], None] | None = None) -> RaisrModel:
        """Regularised least squares per bucket; empty buckets get the identity (centre tap) filter."""
        cfg = self.cfg
        k = cfg.patch * cfg.patch
        centre = np.zeros(k)
        centre[k // 2] = 1.0
        filters = np.tile(centre, (cfg.buckets, 1))
        for b in range(cfg.buckets):
            if self.counts[b] < k:
                continue
            q = self.ata[b]
            lam = cfg.regularisation * np.trace(q) / k + 1e-9
            # shrink toward the identity filter, not toward zero
            try:
                filters[b] = np.linalg.solve(q + lam * np.eye(k), self.atb[b] + lam * centre)
            except np.linalg.LinAlgError:
                pass
            if progress and b % 64 == 0:
                progress(b, cfg.buckets)
        return RaisrModel(cfg, filters.astype(np.float32), self.strength_thr, self.coherence_thr)


def train_pairs_from_hr(hr_y: np.ndarray, scale: int, degrade: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Make ``(cheap, target)`` from an HR luma image in [0, 1]: MATLAB-bicubic LR, cheap upscale.

    ``degrade`` (optional) maps the LR float image to a damaged one (e.g. JPEG for repair).
    """
    from ..resize import imresize

    h = (hr_y.shape[0] // scale) * scale
    w = (hr_y.shape[1] // scale) * scale
    hr = hr_y[:h, :w]
    lr = hr if scale == 1 else np.clip(imresize(hr, output_shape=(h // scale, w // scale)), 0, 1)
    lr = np.round(lr * 255.0) / 255.0  # LR files are 8-bit
    if degrade is not None:
        lr = degrade(lr)
    cheap = _cheap_upscale(lr.astype(np.float32), scale)
    return cheap, hr.astype(np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma in [0, 1] of an ``(H, W, 3)`` uint8 image (float32)."""
    x = rgb.astype(np.float32) / 255.0
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def jpeg_damage(rng: np.random.Generator, quality: tuple[int, int] = (10, 60), noise: float = 0.0,
                noise_prob: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """A ``degrade`` for :func:`train_pairs_from_hr`: optional Gaussian noise (sigma drawn in
    ``[min(1, noise), noise]`` levels, with probability ``noise_prob``), then JPEG at a quality
    drawn in ``quality``."""
    import io

    from PIL import Image

    def damage(y: np.ndarray) -> np.ndarray:
        x = y * 255.0
        if noise > 0 and rng.random() < noise_prob:
            x = x + rng.normal(0, rng.uniform(min(1.0, noise), noise), x.shape)
        buf = io.BytesIO()
        Image.fromarray(np.clip(np.round(x), 0, 255).astype(np.uint8)).save(
            buf, format="JPEG", quality=int(rng.integers(quality[0], quality[1] + 1)))
        buf.seek(0)
        return np.asarray(Image.open(buf), np.float32) / 255.0

    return damage


def recommended_config(scale: int) -> RaisrConfig:
    """The configuration of the shipped filter sets (and of ``enhance --train --arch raisr``),
    chosen by measurement (BENCHMARKS.md):

    - x2: 7x7 filters refined by a 5x5 cascade (the filtering stays within 0.1 s per MP);
    - x3, x4: 11x11 refined by 9x9 (each HR pixel needs a wider view of the few LR pixels);
    - x1 (repair): 7x7 then 7x7, with the JPEG block lattice hashed too.

    The structure tensor's Gaussian window is one input pixel wide (sigma = scale) at x2-x4:
    on a cheap upscale, a smaller window only sees the interpolation kernel's own slopes.
    """
    if scale == 1:
        return RaisrConfig(scale=1, patch=7, grid=8, refine_patch=7)
    if scale == 2:
        return RaisrConfig(scale=2, patch=7, refine_patch=5, sigma=2.0)
    return RaisrConfig(scale=scale, patch=11, refine_patch=9, sigma=float(scale))


def train_filters(
    images: list[np.ndarray],
    cfg: RaisrConfig,
    degrade: Callable[[np.ndarray], np.ndarray] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> RaisrModel:
    """Learn a filter set from HR images (``(H, W, 3)`` uint8): thresholds from a sample of
    about 40 images, per-bucket accumulation over all, the 8-fold symmetry, then the solve.
    With ``cfg.refine_patch``, a second pass over the images learns the refining set on the
    first set's output.

    ``progress(done, total)`` is called after each image of each pass.
    """
    lumas = [luma(im) for im in images]
    passes = 2 if cfg.refine_patch else 1
    total = passes * len(lumas)
    step = max(1, len(lumas) // 40)

    def one_pass(stage_cfg: RaisrConfig, before: Callable[[np.ndarray], np.ndarray], done0: int) -> RaisrModel:
        tr = RaisrTrainer(stage_cfg)
        tr.fit_thresholds([before(train_pairs_from_hr(lumas[i], cfg.scale, degrade)[0])
                           for i in range(0, len(lumas), step)], seed=seed)
        for i, y in enumerate(lumas):
            cheap, target = train_pairs_from_hr(y, cfg.scale, degrade)
            tr.add(before(cheap), target)
            if progress is not None:
                progress(done0 + i + 1, total)
        tr.symmetrise()
        return tr.solve()

    first = one_pass(replace(cfg, refine_patch=0), lambda c: c, 0)
    if not cfg.refine_patch:
        return first
    refine = one_pass(cfg.refine_config(), first.filter_luma, len(lumas))
    return RaisrModel(cfg, first.filters, first.strength_thr, first.coherence_thr, refine)
