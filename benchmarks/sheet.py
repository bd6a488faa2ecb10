"""Before/after crop sheets for judging a model's look by eye (the GAN model's, chiefly).

    python -m benchmarks sheet --scale 2 --models bicubic,default,gan --model-dir runs/gan \\
        --images chelsea castle_painting forest --out crops/gan_x2.png

Each row is one bench image: a crop of the original, then each method's output for the MATLAB
bicubic LR of the whole image, cut at the same place, labelled with its PSNR-Y on that crop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .metrics import psnr_y
from .protocol import BenchImage, make_lr


def crop_sheet(images: list[BenchImage], scale: int, methods: dict[str, object], out: Path, crop: int = 192) -> None:
    """Write the sheet. ``methods`` maps a label to ``fn(lr_uint8, scale) -> sr_uint8``."""
    from PIL import Image, ImageDraw

    label_h, gap = 18, 4
    cols = 1 + len(methods)
    sheet = Image.new("RGB", (cols * (crop + gap), len(images) * (crop + label_h + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, im in enumerate(images):
        h, w = (im.hr.shape[0] // scale) * scale, (im.hr.shape[1] // scale) * scale
        hr = im.hr[:h, :w]
        lr = make_lr(hr, scale)
        y0 = max(0, (h // 2 - crop // 2) // scale * scale)
        x0 = max(0, (w // 2 - crop // 2) // scale * scale)
        panels = [(f"{im.name}: original", hr)]
        for name, fn in methods.items():
            sr = fn(lr, scale)  # type: ignore[operator]
            panels.append((name, sr))
        top = r * (crop + label_h + gap)
        for c, (name, arr) in enumerate(panels):
            part = arr[y0:y0 + crop, x0:x0 + crop]
            label = name if c == 0 else f"{name} {psnr_y(part, hr[y0:y0 + crop, x0:x0 + crop], 0):.2f} dB"
            sheet.paste(Image.fromarray(np.ascontiguousarray(part)), (c * (crop + gap), top + label_h))
            draw.text((c * (crop + gap) + 3, top + 3), label, fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
