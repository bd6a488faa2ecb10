"""Rebuild src/enhance/models/zoo.json from the weight files: sha256, size, architecture, how trained.

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
WEIGHTS = ROOT / "src" / "enhance" / "models" / "weights"
DESCRIPTIONS = {
    "default": "faithful CNN (residual blocks, pixel shuffle), pixel loss: invents no texture",
    "repair": "x1 CNN that removes JPEG damage (quality 10-60) and noise",
    "raisr": "hashed learned filters (RAISR; 7x7 then 5x5 at x2, 11x11 then 9x9 at x3/x4, 7x7 twice at x1): "
             "NumPy only, small memory; faster than the CNN at x2 only",
    "descreen": "x1 CNN that removes halftone screens from scanned print (--type=print runs it first)",
    # by name:type where a variant differs from its model
    "default:jpeg": "the default CNN's variant for JPEG input (trained on JPEG'd LR, quality 20-95): removes the damage "
                    "as it enlarges; --repair auto and --type=jpeg pick it",
    "default:jpeg-light": "the default CNN's variant for lightly compressed JPEGs (trained on LR saved at quality 75-97): "
                          "--repair auto picks it for the lightly compressed JPEGs of LIGHT_QUALITIES (treatment.py)",
    "default:aliased": "the default CNN's variant for aliased input (trained mostly on point-sampled and box-reduced LR): "
                       "--type=aliased picks it, for low-dpi scans and nearest-neighbour resizes whose lines zigzag",
}


#: model calls measured by ``python -m benchmarks speedprobe`` (1 MP output, 2 threads; repair: the
#: 18-block model, session 25, AMD EPYC, training paused) that the
#: sr table of results.json does not hold: s per output MP
PROBED = {("repair", 1): 8.97, ("descreen", 1): 0.343}
#: variants whose network differs from their model's (the sr table times the model's own file):
#: (name, scale, residual blocks) -> s per output MP. The 12-block x4 variants beside the 18-block
#: x4 of session 27: 0.517 s per MP, where the 18-block model took 0.687 (AMD EPYC Zen 3, 2
#: threads, training finished; on the Zen 4 EPYC of the sr table the 12-block x4 took 0.17)
PROBED_VARIANTS = {("default", 4, 12): 0.517}


def _speeds() -> tuple[dict[tuple[str, int], float], str]:
    """s per output MP of each (name, scale) from benchmarks/results/results.json, and the machine."""
    path = ROOT / "benchmarks" / "results" / "results.json"
    if not path.exists():
        return dict(PROBED), ""
    res = json.loads(path.read_text())
    out = dict(PROBED)
    for name, by_scale in res.get("sr", {}).items():
        for key, entry in by_scale.items():
            sec = (entry.get("speed") or {}).get("sec_per_mp")
            if sec:
                out[(name, int(key[1:]))] = round(float(sec), 3)
    return out, str(res.get("machine", ""))


def main() -> int:
    speeds, machine = _speeds()
    models = []
    headers = {f: read_header(f) for f in sorted(WEIGHTS.glob("*.safetensors"))}
    # the blocks of each model's own (photo) file, which the sr table times
    timed = {(m.get("name") or f.stem.split("-")[0], int(m.get("scale", "2"))): json.loads(m.get("config", "{}")).get("blocks")
             for f, m in headers.items() if m.get("type", "photo") == "photo"}
    for f, meta in headers.items():
        name = meta.get("name") or f.stem.split("-")[0]
        scale, blocks = int(meta.get("scale", "2")), json.loads(meta.get("config", "{}")).get("blocks")
        # a variant of the same network runs at its model's speed; one of another depth has its own
        sec = (speeds.get((name, scale)) if timed.get((name, scale), blocks) == blocks
               else PROBED_VARIANTS.get((name, scale, blocks)))
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
            "sec_per_output_mp": sec,
            "speed_measured_on": machine,
            "description": DESCRIPTIONS.get(f"{name}:{meta.get('type', 'photo')}", DESCRIPTIONS.get(name, "")),
        }
        models.append(entry)
    (ROOT / "src" / "enhance" / "models" / "zoo.json").write_text(json.dumps({"models": models}, indent=1) + "\n")
    print(f"zoo.json: {len(models)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
