"""A peer's whole process, for side-by-side timing with ``enhance``: read, upscale x2, write PNG.

    python -m benchmarks.peer_cli waifu2x-cunet in.png out.png
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from .methods import resolve


def main(argv: list[str]) -> int:
    name, src, dst = argv
    method, _ = resolve(name)
    if method is None:
        print(f"{name}: not installed", file=sys.stderr)
        return 2
    lr = np.asarray(Image.open(src).convert("RGB"))
    Image.fromarray(method(lr, 2)).save(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
