"""Build the training corpus (data/corpus) from Debian packages.

    sudo apt-get install plasma-workspace-wallpapers gnome-backgrounds mate-backgrounds \
        ukui-wallpapers lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 wesnoth-1.16-data openclipart-png
    python -m recipes.build_corpus data/corpus

The bench sources listed in recipes.corpus.EXCLUDED are never included.
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys

from recipes.corpus import build, discover


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="data/corpus")
    ap.add_argument("--max-clipart", type=int, default=1500)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    items = discover()
    if not items:
        print("no corpus sources found: install the packages named in this script's docstring", file=sys.stderr)
        return 1
    m = build(args.out, items, max_clipart=args.max_clipart,
              progress=lambda i, n: (i % 200 == 0) and print(f"{i}/{n}", file=sys.stderr))
    kinds = collections.Counter(e["kind"] for e in m["images"])
    print(f"wrote {len(m['images'])} images, {m['megapixels']} MP to {args.out}: {dict(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
