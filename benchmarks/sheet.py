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


LABEL_H, GAP = 18, 4


def panel_strip(panels: list[tuple[str, np.ndarray]], zoom: int = 1):  # type: ignore[no-untyped-def]
    """One labelled row of equally sized ``(h, w, 3)`` uint8 crops, each enlarged ``zoom`` times
    with nearest neighbour (so dots and pixels stay visible). Returns a PIL image."""
    from PIL import Image, ImageDraw

    h, w = panels[0][1].shape[:2]
    pw, ph = w * zoom, h * zoom
    row = Image.new("RGB", (len(panels) * (pw + GAP), ph + LABEL_H), "white")
    draw = ImageDraw.Draw(row)
    for c, (label, arr) in enumerate(panels):
        tile = Image.fromarray(np.ascontiguousarray(arr))
        row.paste(tile.resize((pw, ph), Image.NEAREST) if zoom != 1 else tile, (c * (pw + GAP), LABEL_H))
        draw.text((c * (pw + GAP) + 3, 3), label, fill="black")
    return row


def crop_sheet(images: list[BenchImage], scale: int, methods: dict[str, object], out: Path, crop: int = 192) -> None:
    """Write the sheet. ``methods`` maps a label to ``fn(lr_uint8, scale) -> sr_uint8``."""
    from PIL import Image

    rows = []
    for im in images:
        h, w = (im.hr.shape[0] // scale) * scale, (im.hr.shape[1] // scale) * scale
        hr = im.hr[:h, :w]
        lr = make_lr(hr, scale)
        y0 = max(0, (h // 2 - crop // 2) // scale * scale)
        x0 = max(0, (w // 2 - crop // 2) // scale * scale)
        ref = hr[y0:y0 + crop, x0:x0 + crop]
        panels = [(f"{im.name}: original", ref)]
        for name, fn in methods.items():
            part = fn(lr, scale)[y0:y0 + crop, x0:x0 + crop]  # type: ignore[operator]
            panels.append((f"{name} {psnr_y(part, ref, 0):.2f} dB", part))
        rows.append(panel_strip(panels))
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height + GAP for r in rows)), "white")
    top = 0
    for r in rows:
        sheet.paste(r, (0, top))
        top += r.height + GAP
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
