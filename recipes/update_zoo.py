"""Rebuild enhance/models/zoo.json from the weight files: sha256, size, architecture, how trained.

    python -m recipes.update_zoo

Run after training; the registry refuses a shipped file whose sha256 differs from the zoo's.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from enhance.models.weightfile import read_header

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "enhance" / "models" / "weights"
DESCRIPTIONS = {
    "default": "faithful CNN (residual blocks, pixel shuffle), pixel loss: invents no texture",
    "repair": "x1 CNN that removes JPEG damage (quality 10-60) and noise",
    "raisr": "hashed learned 7x7 filters (RAISR): fast CPU previews and huge scans",
    "descreen": "x1 CNN that removes halftone screens from scanned print (--type=print runs it first)",
    # by name:type where a variant differs from its model
    "default:jpeg": "the default CNN's variant for JPEG input (trained on JPEG'd LR, quality 20-95): removes the damage "
                    "as it enlarges; --repair auto and --type=jpeg pick it",
}


def main() -> int:
    models = []
    for f in sorted(WEIGHTS.glob("*.safetensors")):
        meta = read_header(f)
        name = meta.get("name") or f.stem.split("-")[0]
        entry = {
            "name": name,
            "arch": meta.get("arch", "generator"),
            "type": meta.get("type", "photo"),
            "scale": int(meta.get("scale", "2")),
            "file": f.name,
            "sha256": hashlib.sha256(f.read_bytes()).hexdigest(),
            "bytes": f.stat().st_size,
            "hyperparameters": json.loads(meta.get("config", "{}")),
            "licence": meta.get("licence", "same as Enhance"),
            "trained": meta.get("trained", ""),
            # the recipes moved from scripts/ to recipes/ after some weights were written
            "recipe": meta.get("recipe", "").replace("scripts/", "recipes/", 1),
            "lineage": json.loads(meta.get("lineage", "[]")),
            "description": DESCRIPTIONS.get(f"{name}:{meta.get('type', 'photo')}", DESCRIPTIONS.get(name, "")),
        }
        models.append(entry)
    (ROOT / "enhance" / "models" / "zoo.json").write_text(json.dumps({"models": models}, indent=1) + "\n")
    print(f"zoo.json: {len(models)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
