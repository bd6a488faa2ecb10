"""Training pairs: random crops of corpus images, degraded on the fly."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch.utils.data

from .degrade import Degradation, degrade_pair

__all__ = ["PairSampler", "batches"]


class PairSampler:
    """Draws ``(lr, hr)`` batches from a list of HR images.

    Images are drawn with probability proportional to their area; each crop gets one of the
    eight flips/rotations. Deterministic for a given ``seed``.

    Args:
        images: ``(H, W, 3)`` uint8 arrays.
        scale: zoom the pairs are for (1-4).
        patch: HR patch side (a multiple of ``scale``), Neural Enhance's ``--batch-shape``.
        degradation: how LR is made.
        seed: random seed.
        weights: per-image draw weights (default: by area).
        train_scales: extra down-scaling of the source image before cropping (Neural Enhance's
            ``--train-scales``): 0 keeps it, 1 halves it with a box filter, and so on.
    """

    def __init__(self, images: list[np.ndarray], scale: int, patch: int, degradation: Degradation,
                 seed: int = 0, train_scales: int = 0, weights: np.ndarray | None = None) -> None:
        if patch % scale:
            raise ValueError(f"patch {patch} must be a multiple of scale {scale}")
        self.scale, self.patch, self.degradation = scale, patch, degradation
        self.margin = 2  # LR pixels of context around each crop
        ctx = self.patch + 2 * self.margin * scale
        imgs, keep = [], []
        for idx, im in enumerate(images):
            for _ in range(train_scales):
                h, w = im.shape[0] // 2 * 2, im.shape[1] // 2 * 2
                im = im[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3)).round().astype(np.uint8)
            if im.shape[0] >= ctx and im.shape[1] >= ctx:
                imgs.append(im)
                keep.append(idx)
        if not imgs:
            raise ValueError(f"no training image is at least {ctx}x{ctx} pixels")
        self.images = imgs
        area = np.array([a.shape[0] * a.shape[1] for a in imgs], dtype=np.float64)
        if weights is not None:
            area = np.asarray(weights, dtype=np.float64)[keep]
        self.p = area / area.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int, periods: list[float | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``lr (n, p/s, p/s, 3)`` and ``hr (n, p, p, 3)``, both uint8.

        ``periods``, when given, gets each pair's screen period in LR pixels, or ``None``
        (:func:`~enhance.train.degrade.degrade_pair`'s ``info``), in batch order."""
        s, p, m = self.scale, self.patch, self.margin
        ctx = p + 2 * m * s
        lrs, hrs = [], []
        for i in self.rng.choice(len(self.images), size=n, p=self.p):
            im = self.images[i]
            y = int(self.rng.integers(0, im.shape[0] - ctx + 1))
            x = int(self.rng.integers(0, im.shape[1] - ctx + 1))
            crop = im[y:y + ctx, x:x + ctx]
            for _retry in range(4):  # flat crops (blank paper, sky) teach little: redraw some
                if crop[::4, ::4].std() > 2.0:
                    break
                y = int(self.rng.integers(0, im.shape[0] - ctx + 1))
                x = int(self.rng.integers(0, im.shape[1] - ctx + 1))
                crop = im[y:y + ctx, x:x + ctx]
            k = int(self.rng.integers(8))
            crop = np.rot90(crop, k % 4)
            if k >= 4:
                crop = crop[:, ::-1]
            crop = np.ascontiguousarray(crop)
            info: dict[str, float | None] = {}
            lr, target = degrade_pair(crop, s, self.degradation, self.rng, margin=m, info=info)
            if periods is not None:
                periods.append(info["period"])
            lrs.append(lr)
            hrs.append(target[m * s:m * s + p, m * s:m * s + p])
        return np.stack(lrs), np.stack(hrs)


#: a worker's seed is the stream's seed plus this prime times its number
_WORKER_SEED_STRIDE = 104729


class _Stream(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """An endless stream of batches from one :class:`PairSampler`: of the stream's seed when
    iterated in this process, of a seed derived from it and the worker's number in a worker."""

    def __init__(self, images: list[np.ndarray], kwargs: dict, batch_size: int) -> None:  # type: ignore[type-arg]
        self.images, self.kwargs, self.batch_size = images, kwargs, batch_size

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, list[float | None]]]:
        info = torch.utils.data.get_worker_info()
        kw = dict(self.kwargs)
        if info is not None:
            kw["seed"] = kw["seed"] + _WORKER_SEED_STRIDE * (1 + info.id)
        sampler = PairSampler(self.images, **kw)
        while True:
            periods: list[float | None] = []
            lr, hr = sampler.batch(self.batch_size, periods)
            yield lr, hr, periods


def batches(images: list[np.ndarray], scale: int, patch: int, degradation: Degradation, batch_size: int,
            seed: int = 0, train_scales: int = 0, weights: np.ndarray | None = None,
            workers: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, list[float | None]]]:
    """An endless iterator of training batches: ``lr (n, p/s, p/s, 3)`` and ``hr (n, p, p, 3)``
    uint8 (``n = batch_size``, ``p = patch``, ``s = scale``) with each pair's screen period.

    ``workers=0`` draws them in this process from one :class:`PairSampler` of ``seed`` (the
    sequence every CPU run has used). ``workers > 0`` draws them in that many worker processes
    (a torch ``DataLoader``), each its own sampler of a seed derived from ``seed``, taken in
    turn: deterministic for a given ``seed`` and ``workers``, and fast enough to feed a GPU.
    """
    kwargs = {"scale": scale, "patch": patch, "degradation": degradation, "seed": seed,
              "train_scales": train_scales, "weights": weights}
    stream = _Stream(images, kwargs, batch_size)
    if workers <= 0:
        return iter(stream)
    return iter(torch.utils.data.DataLoader(stream, batch_size=None, collate_fn=_as_is, num_workers=workers,
                                            prefetch_factor=4, persistent_workers=True))


def _as_is(batch: tuple[np.ndarray, np.ndarray, list[float | None]]) -> tuple[np.ndarray, np.ndarray, list[float | None]]:
    """The DataLoader's collate step: the worker's batch as it made it (numpy, not tensors)."""
    return batch
