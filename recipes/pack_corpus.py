"""Pack a small training corpus that travels: random crops of the built corpus, plus fonts.

    python -m recipes.pack_corpus data/corpus gpu --mib 24

A lent GPU machine (the ``device`` tool) gets the working tree and at most 64 MiB beside it, and
reaches no package registry, so the 255 MB corpus cannot go there whole. This writes
``OUT/corpus`` (lossless WebP crops of ``--crop`` px, drawn in the corpus kinds' training shares,
each kind's images by area, flat crops redrawn, until ``--mib`` is spent; a ``corpus.json`` that
``recipes.corpus.load_corpus`` reads, each entry naming the image and box it came from) and
``OUT/fonts`` (the smallest of the installed fonts, up to ``--font-mib``, for the pages of type;
point ``ENHANCE_FONT_DIRS`` at it). ``recipes/train_gpu.sh`` trains from it. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from enhance.train.textpage import font_files
from recipes.corpus import read_entry
from recipes.train_neural import SHARES


def pack(corpus: Path, out: Path, mib: float, crop: int, font_mib: float, seed: int) -> dict[str, int]:
    """Write the packed corpus and fonts; return how many crops of each kind were packed."""
    manifest = json.loads((corpus / "corpus.json").read_text())
    entries = [e for e in manifest["images"] if min(e["size"]) >= crop // 2]
    rng = np.random.default_rng(seed)
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    by_kind = {k: [e for e in entries if e["kind"] == k] for k in SHARES}
    cache: dict[str, np.ndarray] = {}
    packed: list[dict[str, object]] = []
    spent, counts = 0, {k: 0 for k in SHARES}
    kinds = [k for k in SHARES if by_kind[k]]
    if not kinds:
        raise ValueError(f"{corpus}: no image of {crop // 2} px or more to pack")
    shares = np.array([SHARES[k] for k in kinds])
    while spent < mib * 2**20:
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        pool = by_kind[kind]
        area = np.array([e["size"][0] * e["size"][1] for e in pool], np.float64)
        e = pool[int(rng.choice(len(pool), p=area / area.sum()))]
        if e["file"] not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[e["file"]] = read_entry(corpus, e)
        im = cache[e["file"]]
        h, w = min(crop, im.shape[0]), min(crop, im.shape[1])
        for _ in range(5):
            y, x = int(rng.integers(0, im.shape[0] - h + 1)), int(rng.integers(0, im.shape[1] - w + 1))
            box = im[y:y + h, x:x + w]
            if box[::4, ::4].std() > 2.0:
                break
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(box)).save(buf, "WEBP", lossless=True, quality=100, method=4)
        name = f"{kind}_{len(packed):05d}.webp"
        (out / "corpus" / name).write_bytes(buf.getvalue())
        spent += buf.tell()
        counts[kind] += 1
        packed.append({"file": name, "source": f"{e['file']}[{y}:{y + h},{x}:{x + w}]", "kind": kind,
                       "reduce": 1, "size": [w, h]})
    (out / "corpus" / "corpus.json").write_text(json.dumps(
        {"packed_from": str(corpus), "seed": seed, "images": packed}, indent=1))
    fonts = out / "fonts"
    fonts.mkdir(exist_ok=True)
    spent = 0
    for f in sorted(font_files(), key=lambda p: Path(p).stat().st_size):
        size = Path(f).stat().st_size
        if spent + size > font_mib * 2**20:
            break
        shutil.copyfile(f, fonts / Path(f).name)
        spent += size
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="a corpus built by recipes.build_corpus")
    ap.add_argument("out", help="folder to write (corpus/ and fonts/ in it)")
    ap.add_argument("--mib", type=float, default=24.0, help="bytes of crops to pack, in MiB")
    ap.add_argument("--crop", type=int, default=320, help="crop side in pixels")
    ap.add_argument("--font-mib", type=float, default=3.5, help="bytes of fonts to pack, in MiB")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    counts = pack(Path(args.corpus), Path(args.out), args.mib, args.crop, args.font_mib, args.seed)
    print(f"packed {sum(counts.values())} crops ({', '.join(f'{k} {n}' for k, n in counts.items())}) "
          f"into {args.out}/corpus, fonts into {args.out}/fonts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
