"""Geometric self-ensemble: run a model on flipped and rotated copies of each tile and average.

A model trained on data augmented with flips and 90-degree rotations should give the same
answer for every orientation of its input; in practice its errors differ from one orientation
to the next, and averaging the eight answers (the dihedral group of the square) cancels part
of them. It costs one model call per orientation, so eight passes take about eight times as
long; BENCHMARKS.md gives what it buys per model.
"""

from __future__ import annotations

import numpy as np

from .base import Upscaler

__all__ = ["Ensemble", "PASSES"]



def _forward(x: np.ndarray, k: int) -> np.ndarray:
    """Orientation ``k`` (0-7) of ``x`` ``(h, w, C)``: ``k & 4`` transposes, then rotates by ``k & 3`` quarter turns."""
    if k & 4:
        x = x.transpose(1, 0, 2)
    return np.rot90(x, k & 3, axes=(0, 1))


def _inverse(y: np.ndarray, k: int) -> np.ndarray:
    y = np.rot90(y, -(k & 3), axes=(0, 1))
    if k & 4:
        y = y.transpose(1, 0, 2)
    return y


#: which orientations each pass count uses: 2, identity and transpose; 4, those two and
#: their half turns (the anti-transpose); 8, all of the square's symmetries
_ORIENTATIONS = {1: (0,), 2: (0, 4), 4: (0, 2, 4, 6), 8: tuple(range(8))}
#: the pass counts on offer
PASSES = tuple(_ORIENTATIONS)


class Ensemble:
    """``model`` run on ``passes`` orientations of each tile, answers averaged.

    The result has the model's scale, context and multiple (a tile's padding is the same on
    every side, and the tiler pads both sides to ``multiple_of``), so tiles still agree with
    the whole image.

    Args:
        model: any upscaler.
        passes: 1, 2, 4 or 8 orientations.
    """

    def __init__(self, model: Upscaler, passes: int = 8) -> None:
        if passes not in _ORIENTATIONS:
            raise ValueError(f"passes must be one of {PASSES}, not {passes}")
        self.model, self.passes = model, passes
        self.name = model.name if passes == 1 else f"{model.name}*{passes}"
        self.scale = model.scale
        self.context = model.context
        self.multiple_of = model.multiple_of

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h*scale, w*scale, C)`` float32, the mean of
        the model's answers over the orientations."""
        acc: np.ndarray | None = None
        for k in _ORIENTATIONS[self.passes]:
            y = _inverse(self.model(np.ascontiguousarray(_forward(x, k))), k)
            acc = y.astype(np.float32, copy=True) if acc is None else acc + y
        assert acc is not None
        return acc / np.float32(len(_ORIENTATIONS[self.passes]))
