"""A light Gaussian blur before an enlargement, for aliased input (``--type=aliased`` where the
model has no variant of its own for it).

An aliased low-resolution scan (a scanner that samples points, or a nearest-neighbour resize)
holds frequencies folded back from above its Nyquist limit: hatching and fine lines turn into
zigzags, which a model trained on antialiased reductions sharpens into structure. Softening the
input first takes the fold's sharpest part away. It costs detail on an antialiased input, so it
runs only where the user says the file is aliased.

:data:`SIGMA` was chosen on corpus crops (photos, clip-art renders and paintings; never the
bench), reduced by point sampling and by a box filter, then enlarged by ``default``
(BENCHMARKS.md, session 25).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Soften", "SIGMA"]

#: the blur's sigma in input pixels, at every zoom: on corpus crops at x3 and x4, 0.4 px gained
#: 1.0 dB on point-sampled LR and cost 0.4 on box-reduced LR; 0.5 px gained 2.1 and cost 1.9
SIGMA = 0.4


class Soften:
    """An x1 model: a Gaussian blur of ``sigma`` input pixels, the edges mirrored.

    Args:
        sigma: the blur's standard deviation in pixels (> 0).
    """

    scale = 1
    multiple_of = 1

    def __init__(self, sigma: float) -> None:
        if not sigma > 0:
            raise ValueError(f"soften sigma {sigma!r}: must be over 0")
        self.sigma = float(sigma)
        self.name = "soften"
        self.context = int(np.ceil(4.0 * self.sigma))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``(h, w, C)`` float32 in [0, 1] to ``(h, w, C)`` float32 in [0, 1]."""
        x = np.asarray(x, dtype=np.float32)
        from scipy.ndimage import gaussian_filter  # here: importing SciPy costs a plain run 0.4 s

        return gaussian_filter(x, (self.sigma, self.sigma, 0), mode="reflect", truncate=4.0)
