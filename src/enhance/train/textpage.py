"""Synthetic pages of type: the printed text that scanned books and magazines are full of.

The registry corpus (wallpapers, paintings, clip-art) holds almost no text, yet text is most
of what a publisher's scans show. :func:`text_page` sets random words in the fonts installed on
the machine (any TrueType/OpenType file under the usual font folders; Pillow's own font when
there is none), at sizes from caption to headline, on tinted paper, with the slight skew, ink
spread and optical blur of a print scanned back. The degradation module replaces a share of
training crops by such pages (:attr:`enhance.train.degrade.Degradation.text`), so the model
learns what letter edges and counters look like. The shipped models were trained with the fonts
that Debian's fonts-dejavu-core, fonts-dejavu-extra and the corpus packages install (48 files).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter

__all__ = ["font_files", "text_page"]

#: folders searched for fonts, in order
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
# rough English letter frequencies (per mille), so words look like words to a model
_FREQ = np.array([127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1],
                 np.float64)
_PUNCT = ",.;:-'\"!?()"
_SUPERSAMPLE = 4


@functools.lru_cache(maxsize=1)
def font_files() -> tuple[str, ...]:
    """The TrueType/OpenType files found under :data:`FONT_DIRS`, sorted (empty if none); under
    the folders of ``ENHANCE_FONT_DIRS`` instead where that is set (``os.pathsep``-separated: a
    packed corpus carries its fonts to a machine that has none, ``recipes/pack_corpus.py``)."""
    found = []
    env = os.environ.get("ENHANCE_FONT_DIRS")
    for d in env.split(os.pathsep) if env else FONT_DIRS:
        for dirpath, _dirs, files in os.walk(d):
            found.extend(os.path.join(dirpath, f) for f in files if f.lower().endswith((".ttf", ".otf")))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if not path:
        return ImageFont.load_default(size)
    try:
        return ImageFont.truetype(path, size)
    except OSError:  # a font file FreeType cannot read: the built-in one instead
        return ImageFont.load_default(size)


def _word(rng: np.random.Generator) -> str:
    n = int(rng.integers(1, 11))
    w = "".join(rng.choice(list(_LETTERS), size=n, p=_FREQ / _FREQ.sum()))
    r = rng.random()
    if r < 0.15:
        w = w.capitalize()
    elif r < 0.18:
        w = w.upper()
    elif r < 0.22:
        w = str(int(rng.integers(1, 10000)))
    if rng.random() < 0.15:
        w += _PUNCT[int(rng.integers(len(_PUNCT)))]
    return w


def text_page(h: int, w: int, rng: np.random.Generator, fonts: tuple[str, ...] | None = None) -> np.ndarray:
    """A crop of a printed and scanned page of type, ``(h, w, 3)`` uint8 RGB.

    Lines of random words in one font (drawn from ``fonts``, default :func:`font_files`), a
    body size of 6-40 output pixels (an x-height of about 3-20), set at 4x and reduced with a
    box filter (antialiased edges), dark ink on tinted paper (sometimes coloured ink, sometimes
    light type on a dark ground), a skew of up to 1.5 degrees on half the pages, then ink
    spread and scanner blur (Gaussian, sigma 0-0.9 px) and faint paper grain.
    """
    fonts = font_files() if fonts is None else fonts
    ss = _SUPERSAMPLE
    size = float(np.exp(rng.uniform(np.log(6.0), np.log(40.0))))
    font = _font(fonts[int(rng.integers(len(fonts)))] if fonts else "", max(4, int(round(size * ss))))
    canvas = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    leading = size * ss * float(rng.uniform(1.05, 1.6))
    y = -float(rng.uniform(0, leading))
    margin = -int(rng.uniform(0, 3 * size * ss)) if rng.random() < 0.7 else int(rng.uniform(0, w * ss / 3))
    while y < h * ss:
        x = float(margin)
        while x < w * ss:
            word = _word(rng)
            draw.text((x, y), word, fill=255, font=font)
            x += draw.textlength(word + " ", font=font)
        y += leading * (2.0 if rng.random() < 0.05 else 1.0)  # now and then a blank line
    if rng.random() < 0.5:
        canvas = canvas.rotate(float(rng.uniform(-1.5, 1.5)), resample=Image.BICUBIC)
    ink = np.asarray(canvas, np.float32).reshape(h, ss, w, ss).mean(axis=(1, 3)) / 255.0
    ink = np.clip(ink * float(rng.uniform(1.0, 1.3)), 0, 1)  # ink spread thickens strokes a little
    blur = float(rng.uniform(0.0, 0.9))
    if blur > 0.05:
        ink = gaussian_filter(ink, blur, mode="reflect")
    paper = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.83, 1.0), rng.uniform(0.75, 1.0)], np.float32)
    r = rng.random()
    if r < 0.1:  # coloured ink (rubrics, headings)
        dark = rng.uniform(0.0, 0.6, size=3).astype(np.float32)
    else:
        dark = np.float32(rng.uniform(0.0, 0.25)) * np.ones(3, np.float32)
    if rng.random() < 0.05:  # reversed type: light letters on a dark ground
        paper, dark = dark, paper
    rgb = paper * (1 - ink[..., None]) + dark * ink[..., None]
    rgb = rgb + rng.normal(0.0, float(rng.uniform(0.0, 0.01)), size=(h, w, 1)).astype(np.float32)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _main() -> None:  # pragma: no cover - a look at a few pages: python -m enhance.train.textpage OUT.png
    import sys

    rng = np.random.default_rng(0)
    tiles = [text_page(128, 128, rng) for _ in range(16)]
    sheet = np.concatenate([np.concatenate(tiles[i * 4:(i + 1) * 4], axis=1) for i in range(4)], axis=0)
    Image.fromarray(sheet).save(Path(sys.argv[1]) if len(sys.argv) > 1 else "textpages.png")


if __name__ == "__main__":  # pragma: no cover
    _main()
