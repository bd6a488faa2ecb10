"""One explicit registry of models: name -> architecture, scales, files.

Nothing registers itself on import. The registry is built from three sources, in order:

1. the classical resamplers (``bicubic``, ``lanczos``), always present;
2. the shipped models listed in ``zoo.json`` (``default``, ``repair``, ``raisr``, ...), whose
   weight files are checked against their sha256 before loading;
3. models a user trained, found in a folder (the current one by default) as
   ``ne{zoom}x-{type}-{name}.safetensors``.

Loading never imports torch unless the model is a neural one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError
from .base import Upscaler

log = logging.getLogger(__name__)

__all__ = ["PLAIN_TYPES", "ModelFile", "ModelEntry", "list_models", "find_model", "has_variant", "load_model", "ZOO_PATH", "WEIGHTS_DIR"]

ZOO_PATH = Path(__file__).with_name("zoo.json")
WEIGHTS_DIR = Path(__file__).with_name("weights")
_USER_RE = re.compile(r"^ne(?P<zoom>[1-4])x-(?P<type>[A-Za-z0-9_]+)-(?P<name>[A-Za-z0-9_.]+)\.safetensors$")

_SPEED = {"classical": "instant", "raisr": "fast", "generator": "moderate"}


@dataclass(frozen=True)
class ModelFile:
    """One weight file of a model, for one scale."""

    path: Path
    scale: int
    sha256: str | None = None  # checked before loading when given
    size_bytes: int = 0


@dataclass(frozen=True)
class ModelEntry:
    """A named model: its architecture, content type, and one file per scale.

    Attributes:
        name: what ``--model`` takes.
        arch: "classical", "raisr" or "generator".
        type: content type it was trained for ("photo", "print", ...; "any" for classical).
        scales: the zooms it offers.
        description: one line for ``--list-models``.
        files: scale -> weight file (empty for classical resamplers).
        origin: "builtin", "shipped" or the folder a user model was found in.
    """

    name: str
    arch: str
    type: str
    scales: tuple[int, ...]
    description: str
    files: dict[int, ModelFile] = field(default_factory=dict)
    origin: str = "builtin"

    @property
    def speed(self) -> str:
        """Speed class: instant, fast or moderate."""
        return _SPEED.get(self.arch, "moderate")

    @property
    def size_bytes(self) -> int:
        """Total size of the weight files."""
        return sum(f.size_bytes for f in self.files.values())


#: a model's plain variants: what it runs with no type given, listed before its special ones (jpeg, print)
PLAIN_TYPES = ("photo", "any")


def _builtin() -> list[ModelEntry]:
    return [
        ModelEntry("bicubic", "classical", "any", (1, 2, 3, 4), "Pillow bicubic resampling (reference, no learning)"),
        ModelEntry("lanczos", "classical", "any", (1, 2, 3, 4), "Pillow Lanczos-3 resampling (reference, no learning)"),
    ]


def _shipped() -> list[ModelEntry]:
    if not ZOO_PATH.exists():
        return []
    zoo = json.loads(ZOO_PATH.read_text())
    grouped: dict[tuple[str, str], list[dict[str, object]]] = {}
    for m in zoo.get("models", []):
        grouped.setdefault((str(m["name"]), str(m["type"])), []).append(m)
    out = []
    # by name, and within a name the plain variant before the special ones
    for (name, typ), items in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] not in PLAIN_TYPES, kv[0][1])):
        files = {}
        for m in items:
            p = WEIGHTS_DIR / str(m["file"])
            files[int(m["scale"])] = ModelFile(p, int(m["scale"]), str(m["sha256"]), int(m.get("bytes", 0)))
        out.append(ModelEntry(name, str(items[0]["arch"]), typ, tuple(sorted(files)), str(items[0].get("description", "")),
                              files, "shipped"))
    return out


def _user(folder: Path) -> list[ModelEntry]:
    grouped: dict[tuple[str, str], dict[int, ModelFile]] = {}
    arch: dict[tuple[str, str], str] = {}
    try:
        candidates = sorted(folder.glob("ne*x-*-*.safetensors"))
    except OSError:
        return []
    for p in candidates:
        m = _USER_RE.match(p.name)
        if not m:
            continue
        key = (m["name"], m["type"])
        try:
            meta = _read_metadata(p)
        except ModelError as exc:
            log.warning("%s", exc)
            continue
        grouped.setdefault(key, {})[int(m["zoom"])] = ModelFile(p, int(m["zoom"]), None, p.stat().st_size)
        arch[key] = meta.get("arch", "generator")
    return [ModelEntry(n, arch[(n, t)], t, tuple(sorted(f)), f"trained by you ({arch[(n, t)]})", f, str(folder))
            for (n, t), f in sorted(grouped.items())]


def _read_metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return dict(f.metadata() or {})
    except Exception as exc:
        raise ModelError(f"{path}: not a readable safetensors model ({exc})") from None


def list_models(search_dir: str | Path = ".") -> list[ModelEntry]:
    """Every model available: builtin, shipped, then user models found in ``search_dir``."""
    return _builtin() + _shipped() + _user(Path(search_dir))


def find_model(name: str, zoom: int, type: str | None = None, search_dir: str | Path = ".") -> tuple[ModelEntry, ModelFile | None]:
    """Pick the entry and file for ``name`` at ``zoom`` (and ``type`` when several match).

    User models of the same name shadow shipped ones. With no ``type``, the plain variant
    (photo) comes before the special ones (print, jpeg), which serve when it is the only one.
    Raises :class:`ModelError` with the choices when nothing fits.
    """
    entries = [e for e in list_models(search_dir) if e.name == name]
    if not entries:
        names = sorted({e.name for e in list_models(search_dir)})
        raise ModelError(f"unknown model {name!r} (available: {', '.join(names)})")
    entries.sort(key=lambda e: e.origin in ("builtin", "shipped"))  # user models first
    if type is None:
        entries.sort(key=lambda e: e.type not in PLAIN_TYPES)  # stable: user models still first within each
    else:
        typed = [e for e in entries if e.type in (type, "any")]
        if typed:
            entries = typed
        else:
            log.info("model %s has no %s variant; using its %s one", name, type, entries[0].type)
    for e in entries:
        if zoom in e.scales:
            return e, e.files.get(zoom)
    have = sorted({s for e in entries for s in e.scales})
    raise ModelError(f"model {name!r} has no x{zoom} version (it offers {', '.join(f'x{s}' for s in have)})")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: The x1 model that removes halftone screens; ``type="print"`` runs it before the named model.
DESCREEN = "descreen"
#: The x1 model that removes JPEG damage; ``type="jpeg"`` runs it before a model that has no
#: JPEG variant of its own.
REPAIR = "repair"


def has_variant(name: str, zoom: int, type: str, search_dir: str | Path = ".") -> bool:
    """Whether model ``name`` has a file of its own for ``type`` at ``zoom`` (shipped or a user's)."""
    return any(e.name == name and e.type == type and zoom in e.scales for e in list_models(search_dir))


def load_model(
    name: str,
    zoom: int,
    type: str | None = None,
    device: str = "cpu",
    precision: str = "auto",
    search_dir: str | Path = ".",
    backend: str = "auto",
    ensemble: int = 1,
) -> Upscaler:
    """Load a model ready to upscale by ``zoom``.

    Args:
        name: registry name ("bicubic", "lanczos", "default", "repair", "raisr", or your own).
        zoom: 1 to 4.
        type: content type preference ("photo", "print", "jpeg", ...). ``"print"`` with a model
            that has no print variant of its own descreens first (the ``descreen`` model, x1) and
            then runs the named model, so ``load_model("default", 2, "print")`` descreens and
            doubles and ``load_model("default", 1, "print")`` only descreens. ``"jpeg"`` (input
            that was saved as JPEG) picks the model's JPEG variant, trained on JPEG'd input,
            where it has one, and otherwise runs the ``repair`` model (x1) first.
        device: "cpu" or "cuda" (neural models only).
        precision: "fp32", "bf16" or "auto" (neural models only). On a CPU "auto" is fp32 on
            ONNX Runtime; "bf16" runs PyTorch with bfloat16 autocast. On CUDA "auto" is bf16.
        search_dir: folder searched for user-trained ``ne{zoom}x-{type}-{name}.safetensors``.
        backend: neural models only: "onnxruntime" (fp32 on the CPU; what "auto" picks there
            unless bf16 is asked for), "torch" (CUDA, bfloat16), or "auto".
        ensemble: orientations per tile, 1, 2, 4 or 8 (see :class:`~enhance.models.ensemble.Ensemble`):
            the model runs on flipped and rotated copies and the answers are averaged, for a
            little more fidelity at that many times the model's cost.

    Raises:
        ModelError: unknown name, missing zoom, missing file or checksum mismatch.

    Example:
        >>> m = load_model("bicubic", 2)
        >>> m.scale
        2
    """
    from .ensemble import PASSES, Ensemble

    if ensemble not in PASSES:
        raise ModelError(f"ensemble must be one of {', '.join(map(str, PASSES))}, not {ensemble}")
    m = _load(name, zoom, type, device, precision, search_dir, backend)
    return m if ensemble == 1 else Ensemble(m, ensemble)


def _load(name: str, zoom: int, type: str | None, device: str, precision: str, search_dir: str | Path,
          backend: str) -> Upscaler:
    if type == "print" and name != DESCREEN:
        own = [e for e in list_models(search_dir) if e.name == name and e.type == "print" and zoom in e.scales]
        if not own:  # descreen at x1, then the named model does the zoom
            descreen = _load(DESCREEN, 1, "print", device, precision, search_dir, backend)
            if zoom == 1 and name == "default":
                return descreen
            from .chain import Chain

            return Chain(descreen, _load(name, zoom, None, device, precision, search_dir, backend))
    if type == "jpeg" and name != REPAIR and not has_variant(name, zoom, "jpeg", search_dir):
        from .chain import Chain

        return Chain(_load(REPAIR, 1, None, device, precision, search_dir, backend),
                     _load(name, zoom, None, device, precision, search_dir, backend))
    entry, mfile = find_model(name, zoom, type, search_dir)
    if entry.arch == "classical":
        from .classical import ClassicalUpscaler

        return ClassicalUpscaler(entry.name, zoom)
    assert mfile is not None
    if not mfile.path.exists():
        raise ModelError(f"model {name!r} x{zoom}: weight file {mfile.path} is missing")
    if mfile.sha256 and _sha256(mfile.path) != mfile.sha256:
        raise ModelError(f"model {name!r} x{zoom}: {mfile.path} fails its sha256 check (corrupt or replaced)")
    if entry.arch == "raisr":
        from .raisr import RaisrUpscaler

        return RaisrUpscaler.from_file(str(mfile.path), name)
    if entry.arch == "generator":
        if backend not in ("auto", "torch", "onnxruntime"):
            raise ModelError(f"unknown backend {backend!r} (auto, torch or onnxruntime)")
        if backend != "torch" and not device.startswith("cuda"):
            from . import ort

            # on a CPU, "auto" is ONNX Runtime in fp32: exact, and it starts ~1 s sooner than
            # PyTorch; bf16 (PyTorch, ~20 % faster per pixel where the CPU has bf16 units and
            # 0.01 dB lower) only when asked for, as it pays off on long batches alone
            if backend == "onnxruntime" or precision != "bf16":
                if ort.available():
                    return ort.OrtUpscaler.from_file(str(mfile.path), name)
                if backend == "onnxruntime":
                    raise ModelError("backend onnxruntime asked for, but onnxruntime/onnx are not installed")
        try:
            from .neural import NeuralUpscaler
        except ImportError as exc:  # torch missing
            raise ModelError(f"model {name!r} needs PyTorch ({exc}); pip install torch==2.13.0") from None
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ModelError("--device cuda asked for, but no CUDA device is available")
        return NeuralUpscaler.from_file(str(mfile.path), name, device, precision)
    raise ModelError(f"model {name!r}: unknown architecture {entry.arch!r}")
