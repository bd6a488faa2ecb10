"""The HTML report: one self-contained page to look at what was done to each file, and how well.

Per image, a before/after slider at 100 % (the input enlarged by Lanczos against the result),
100 % crops of its busiest regions side by side, what was found and done (the notes), and, for
retina sets with the pipeline check, the verdicts in words. A batch summary comes first and the
failures with their one-line errors. Everything is embedded (images as data URIs, the style and
the slider's few lines of script inline): the page makes no request, so it opens anywhere, from
a mail attachment as well as from a web server.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .outfile import atomic_output
from .version import __version__

__all__ = ["ReportEntry", "busiest_regions", "entry_for_output", "write_report"]

#: the widest picture the slider shows at 100 % (wider ones are cropped to their centre)
MAX_SIDE = 1600


@dataclass
class ReportEntry:
    """One input's part of the report.

    Attributes:
        source: the input, as named.
        before: the input enlarged by Lanczos to the result's size, ``(H, W, 3)`` uint8 (None when it failed).
        after: the result at that size, ``(H, W, 3)`` uint8.
        title: what the result is ("x2, default", "3x asset, default x3").
        notes: what was found and done, one line each.
        verdicts: the pipeline check in words, one line per asset.
        seconds: the time it took.
        error: the one-line error when it failed.
    """

    source: str
    before: np.ndarray | None = None
    after: np.ndarray | None = None
    title: str = ""
    notes: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)
    overview: np.ndarray | None = None


#: the side of the whole-page overview on which the screened regions are drawn
OVERVIEW_SIDE = 480


def busiest_regions(pixels: np.ndarray, size: int = 160, count: int = 3) -> list[tuple[int, int]]:
    """The top-left corners of the ``count`` non-overlapping ``size`` squares with the most detail
    (gradient energy of the luma), busiest first; fewer when the picture is small."""
    h, w = pixels.shape[:2]
    if h < size or w < size:
        return [(0, 0)]
    y = pixels[..., :3].astype(np.float32).mean(axis=2) if pixels.ndim == 3 else pixels.astype(np.float32)
    energy = np.abs(np.diff(y, axis=0))[:, :-1] + np.abs(np.diff(y, axis=1))[:-1, :]
    step = size // 2
    cells = []
    for y0 in range(0, h - size + 1, step):
        for x0 in range(0, w - size + 1, step):
            cells.append((float(energy[y0:y0 + size - 1, x0:x0 + size - 1].sum()), y0, x0))
    chosen: list[tuple[int, int]] = []
    for _e, y0, x0 in sorted(cells, reverse=True):
        if all(abs(y0 - a) >= size or abs(x0 - b) >= size for a, b in chosen):
            chosen.append((y0, x0))
        if len(chosen) == count:
            break
    return chosen


#: outputs larger than this (pixels) are listed without their pictures: the page would not hold them
MAX_PICTURE_PIXELS = 64_000_000


def entry_for_output(source: Path, output: Path, title: str, notes: list[str], seconds: float,
                     verdicts: list[str] | None = None,
                     regions: list[tuple[int, int, int, int]] | None = None) -> ReportEntry:
    """A report entry for a finished ``output``: it beside ``source`` enlarged by Lanczos to its
    size; with ``regions`` (a page's screened regions, ``(top, left, height, width)`` in input
    pixels), a small view of the whole input on which they are drawn."""
    from .image import open_image, to_display_rgb8
    from .upscaling import resize_to

    entry = ReportEntry(str(source), title=title, notes=list(notes), verdicts=list(verdicts or []), seconds=seconds)
    if regions:
        src = to_display_rgb8(*open_image(source))
        k = min(1.0, OVERVIEW_SIDE / max(src.shape[:2]))
        h, w = max(1, round(src.shape[0] * k)), max(1, round(src.shape[1] * k))
        entry.overview = resize_to(src, h, w) if k < 1 else src
        entry.regions = [(round(t * k), round(lf * k), max(1, round(hh * k)), max(1, round(ww * k)))
                         for t, lf, hh, ww in regions]
    after_px, after_meta = open_image(output)
    if after_px.shape[0] * after_px.shape[1] > MAX_PICTURE_PIXELS:
        entry.notes.append("too large to show here: open the file itself")
        return entry
    after = to_display_rgb8(after_px, after_meta)
    before = to_display_rgb8(*open_image(source))
    entry.before, entry.after = resize_to(before, *after.shape[:2]), after
    return entry


def _data_uri(pixels: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", compress_level=3)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _centre(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    y0, x0 = max(0, (h - MAX_SIDE) // 2), max(0, (w - MAX_SIDE) // 2)
    return a[y0:y0 + MAX_SIDE, x0:x0 + MAX_SIDE]


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em;color:#222;background:#fafafa}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
.summary td,.summary th{padding:.2em .8em;text-align:left}
.slider{position:relative;display:inline-block;line-height:0;border:1px solid #ccc}
.slider img{display:block;image-rendering:auto}
.slider .after{position:absolute;top:0;left:0;clip-path:inset(0 50% 0 0)}
.slider input{display:block;width:100%;margin:.4em 0 0}
.crops{display:flex;flex-wrap:wrap;gap:1em;margin:.8em 0}
.crops figure{margin:0}.crops img{border:1px solid #ccc}
.error{color:#a00}ul{margin:.3em 0}
.regions{margin:.8em 0}.regions img{display:block;border:1px solid #ccc}
.regions svg{position:absolute;top:0;left:0}.regions rect{fill:rgba(230,60,20,.12);stroke:#e63c14;stroke-width:2}
"""

_SCRIPT = """
for (const s of document.querySelectorAll('.slider')) {
  const r = s.querySelector('input'), a = s.querySelector('.after');
  const move = () => { a.style.clipPath = `inset(0 ${100 - r.value}% 0 0)`; };
  r.addEventListener('input', move); move();
}
"""


def write_report(entries: list[ReportEntry], path: Path, title: str = "Enhance report") -> None:
    """Write the report for ``entries`` to ``path`` (one HTML file, atomically)."""
    done = [e for e in entries if not e.error]
    failed = [e for e in entries if e.error]
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>",
           f'<table class="summary"><tr><th>files</th><td>{len(entries)}</td></tr>'
           f"<tr><th>done</th><td>{len(done)}</td></tr><tr><th>failed</th><td>{len(failed)}</td></tr>"
           f"<tr><th>time</th><td>{sum(e.seconds for e in entries):.1f} s</td></tr>"
           f"<tr><th>made by</th><td>Enhance {html.escape(__version__)}</td></tr></table>"]
    if failed:
        out.append("<h2>Failed</h2><ul>" + "".join(f'<li class="error">{html.escape(e.error)}</li>' for e in failed)
                   + "</ul>")
    for i, e in enumerate(done):
        out.append(f'<section id="image{i}"><h2>{html.escape(e.source)}</h2><p>{html.escape(e.title)} '
                   f"({e.seconds:.1f} s)</p>")
        if e.before is not None and e.after is not None:
            before, after = _centre(e.before), _centre(e.after)
            hh, ww = after.shape[:2]
            out.append(f'<div class="slider"><img class="before" alt="before: Lanczos" width="{ww}" height="{hh}" '
                       f'src="{_data_uri(before)}"><img class="after" alt="after: Enhance" width="{ww}" height="{hh}" '
                       f'src="{_data_uri(after)}"><input type="range" min="0" max="100" value="50" '
                       'aria-label="before / after"></div>')
            out.append('<div class="crops">')
            for y0, x0 in busiest_regions(after):
                for label, img in (("Lanczos", before), ("Enhance", after)):
                    crop = img[y0:y0 + 160, x0:x0 + 160]
                    out.append(f'<figure><img alt="{label} crop" width="{crop.shape[1]}" height="{crop.shape[0]}" '
                               f'src="{_data_uri(crop)}"><figcaption>{label}, 100 %</figcaption></figure>')
            out.append("</div>")
        if e.overview is not None and e.regions:
            oh, ow = e.overview.shape[:2]
            rects = "".join(f'<rect x="{lf}" y="{t}" width="{w}" height="{h}"/>' for t, lf, h, w in e.regions)
            out.append(f'<figure class="regions"><div style="position:relative;width:{ow}px;height:{oh}px">'
                       f'<img alt="the whole input" width="{ow}" height="{oh}" src="{_data_uri(e.overview)}">'
                       f'<svg width="{ow}" height="{oh}" viewBox="0 0 {ow} {oh}">{rects}</svg></div>'
                       f"<figcaption>{len(e.regions)} screened region{'s' if len(e.regions) != 1 else ''}, "
                       "descreened by themselves (outlined); the rest as the plain path makes it</figcaption></figure>")
        if e.verdicts:
            out.append("<p>After the web pipeline:</p><ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in e.verdicts)
                       + "</ul>")
        if e.notes:
            out.append("<p>Found and done:</p><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in e.notes) + "</ul>")
        out.append("</section>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
