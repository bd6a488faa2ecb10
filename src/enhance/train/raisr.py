"""Learning RAISR filter sets (:mod:`enhance.models.raisr` runs them): per-bucket normal
equations accumulated over image pairs, the 8-fold symmetry from permuted accumulators, a
regularised solve. NumPy only; a model trains in minutes on a laptop CPU.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

import numpy as np

from ..models.raisr import RaisrConfig, RaisrModel, cheap_upscale, hash_buckets, structure_tensor

__all__ = ["RaisrTrainer", "recommended_config", "train_filters", "train_pairs_from_hr", "jpeg_damage", "luma"]

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
            _a, s, c = structure_tensor(img, self.cfg.sigma)
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
        buckets = hash_buckets(cheap, cfg, self.strength_thr, self.coherence_thr)
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
    cheap = cheap_upscale(lr.astype(np.float32), scale)
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
