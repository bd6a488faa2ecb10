"""One explicit registry of models: name -> architecture, scales, files -> one loaded model.

No policy lives here: which models a file goes through, and in what order (descreen first,
the JPEG treatment, the default for a zoom), is :mod:`enhance.treatment`'s decision. Nothing
registers itself on import. The registry is built from three sources, in order:

1. the classical resamplers (``bicubic``, ``lanczos``), always present;
2. the shipped models listed in ``zoo.json`` (``default``, ``repair``, ``raisr``, ...), whose
   weight files are checked against their sha256 before loading;
3. models a user trained, found in a folder (the current one by default) as
   ``ne{zoom}x-{type}-{name}.safetensors``.

The zoo is read once per process; a folder of user models is read again only when its
modification time changes (a model was trained or copied into it). Loading never imports
torch unless the model is a neural one run on PyTorch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .base import Upscaler

log = logging.getLogger(__name__)

__all__ = ["PLAIN_TYPES", "ModelFile", "ModelEntry", "list_models", "find_model", "has_variant", "open_model", "ZOO_PATH",
           "WEIGHTS_DIR"]

ZOO_PATH = Path(__file__).with_name("zoo.json")
WEIGHTS_DIR = Path(__file__).with_name("weights")
_USER_RE = re.compile(r"^ne(?P<zoom>[1-4])x-(?P<type>[A-Za-z0-9_]+)-(?P<name>[A-Za-z0-9_.]+)\.safetensors$")

@dataclass(frozen=True)
class ModelFile:
    """One weight file of a model, for one scale."""

    path: Path
    scale: int
    sha256: str | None = None  # checked before loading when given
    size_bytes: int = 0
    problem: str = ""  # why a user's file cannot be used (one line, naming it); "" when it can


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
        speeds: scale -> the model call's measured seconds per output MP (zoo.json; on the
            machine it names), where measured.
    """

    name: str
    arch: str
    type: str
    scales: tuple[int, ...]
    description: str
    files: dict[int, ModelFile] = field(default_factory=dict)
    origin: str = "builtin"
    speeds: dict[int, float] = field(default_factory=dict)

    @property
    def speed(self) -> str:
        """Measured seconds per output megapixel of the model call, per scale ("-" where unmeasured)."""
        cells = [f"x{s} {sec:.2f}" for s, sec in sorted(self.speeds.items())]
        return ", ".join(cells) + " s/MP" if cells else "-"

    @property
    def size_bytes(self) -> int:
        """Total size of the weight files."""
        return sum(f.size_bytes for f in self.files.values())


#: a model's plain variants: what it runs with no type given, listed before its special ones (jpeg, print)
PLAIN_TYPES = ("photo", "any")


#: the classical resamplers through the tiler, s per output MP at x2 (benchmarks/results, AMD EPYC, 2 cores)
_CLASSICAL_SPEED = {"bicubic": 0.030, "lanczos": 0.036}


def _builtin() -> list[ModelEntry]:
    return [
        ModelEntry("bicubic", "classical", "any", (1, 2, 3, 4), "Pillow bicubic resampling (reference, no learning)",
                   speeds={2: _CLASSICAL_SPEED["bicubic"]}),
        ModelEntry("lanczos", "classical", "any", (1, 2, 3, 4), "Pillow Lanczos-3 resampling (reference, no learning)",
                   speeds={2: _CLASSICAL_SPEED["lanczos"]}),
    ]


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[ModelEntry, ...]:
    if not ZOO_PATH.exists():
        return ()
    zoo = json.loads(ZOO_PATH.read_text())
    grouped: dict[tuple[str, str], list[dict[str, object]]] = {}
    for m in zoo.get("models", []):
        grouped.setdefault((str(m["name"]), str(m["type"])), []).append(m)
    out = []
    # by name, and within a name the plain variant before the special ones
    for (name, typ), items in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] not in PLAIN_TYPES, kv[0][1])):
        files = {}
        speeds: dict[int, float] = {}
        for m in items:
            p = WEIGHTS_DIR / str(m["file"])
            files[int(m["scale"])] = ModelFile(p, int(m["scale"]), str(m["sha256"]), int(m.get("bytes", 0)))
            if m.get("sec_per_output_mp") is not None:
                speeds[int(m["scale"])] = float(m["sec_per_output_mp"])
        out.append(ModelEntry(name, str(items[0]["arch"]), typ, tuple(sorted(files)), str(items[0].get("description", "")),
                              files, "shipped", speeds))
    return tuple(out)


def _user(folder: Path) -> tuple[ModelEntry, ...]:
    try:
        stamp = os.stat(folder).st_mtime_ns
    except OSError:
        return ()
    return _user_scan(str(folder.resolve()), stamp)


@functools.lru_cache(maxsize=16)
def _user_scan(folder_name: str, _stamp: int) -> tuple[ModelEntry, ...]:
    """The user models in ``folder_name`` (``_stamp``, its modification time, keys the cache)."""

    folder = Path(folder_name)
    taken = {e.name for e in _builtin()} | {e.name for e in _shipped()}
    grouped: dict[tuple[str, str], dict[int, ModelFile]] = {}
    arch: dict[tuple[str, str], str] = {}
    try:
        candidates = sorted(folder.glob("ne*x-*-*.safetensors"))
    except OSError:
        return ()
    for p in candidates:
        m = _USER_RE.match(p.name)
        if not m:
            continue
        if m["name"] in taken:  # said once: the scan is cached until the folder changes
            log.warning("%s: not used: a model of your own cannot take the shipped name %r (rename the file, "
                        "e.g. ne%sx-%s-my%s.safetensors)", p, m["name"], m["zoom"], m["type"], m["name"])
            continue
        key = (m["name"], m["type"])
        zoom = int(m["zoom"])
        kind, problem = _check_user_file(p, zoom)
        grouped.setdefault(key, {})[zoom] = ModelFile(p, zoom, None, p.stat().st_size, problem)
        arch[key] = kind
    return tuple(ModelEntry(n, arch[(n, t)], t, tuple(sorted(f)), _user_description(arch[(n, t)], f), f, str(folder))
                 for (n, t), f in sorted(grouped.items()))


def _user_description(arch: str, files: dict[int, ModelFile]) -> str:
    bad = [f.problem for f in files.values() if f.problem]
    return f"trained by you ({arch})" + (f"; unusable: {bad[0]}" if bad else "")


def _check_user_file(path: Path, zoom: int) -> tuple[str, str]:
    """``(arch, problem)`` for a user's weight file, from its header alone: its architecture and
    configuration must be known and within bounds, its scale must be the name's, and its tensors
    must be exactly those the configuration needs. ``problem`` is "" when the file is usable."""
    from .generator_config import GeneratorConfig
    from .raisr import RaisrConfig
    from .weightfile import read_header, read_shapes

    try:
        meta = read_header(path)
        shapes = read_shapes(path)
    except ModelError as exc:
        return "generator", str(exc)
    arch = meta.get("arch", "")
    configs: dict[str, type] = {"generator": GeneratorConfig, "raisr": RaisrConfig}
    if arch not in configs:
        return "generator", f"{path}: unknown architecture {arch!r} (generator or raisr)"
    try:
        fields = json.loads(meta["config"])
        if not isinstance(fields, dict):
            raise TypeError("not an object")
        cfg = configs[arch](**fields)
    except KeyError:
        return arch, f"{path}: no config in its header"
    except (TypeError, ValueError) as exc:
        return arch, f"{path}: unusable config ({exc})"
    try:
        cfg.check()
    except ValueError as exc:
        return arch, f"{path}: {exc}"
    if cfg.scale != zoom:
        return arch, f"{path}: named x{zoom} but the model in it is x{cfg.scale}"
    want = cfg.tensor_shapes()
    missing = sorted(set(want) - set(shapes))
    extra = sorted(set(shapes) - set(want))
    wrong = sorted(k for k in want if k in shapes and shapes[k] != want[k])
    if missing or extra or wrong:
        what = (f"tensor {missing[0]} missing" if missing else f"unexpected tensor {extra[0]}" if extra
                else f"tensor {wrong[0]} is {shapes[wrong[0]]}, its config needs {want[wrong[0]]}")
        return arch, f"{path}: does not match its config ({what})"
    return arch, ""


def list_models(search_dir: str | Path = ".") -> list[ModelEntry]:
    """Every model available: builtin, shipped, then user models found in ``search_dir``."""
    return _builtin() + list(_shipped()) + list(_user(Path(search_dir)))


def find_model(name: str, zoom: int, type: str | None = None, search_dir: str | Path = ".") -> tuple[ModelEntry, ModelFile | None]:
    """Pick the entry and file for ``name`` at ``zoom`` (and ``type`` when several match).

    A user's model can never take a shipped model's name (such a file is left out, with a
    warning). With no ``type``, the plain variant
    (photo) comes before the special ones (print, jpeg), which serve when it is the only one.
    Raises :class:`ModelError` with the choices when nothing fits.
    """
    entries = [e for e in list_models(search_dir) if e.name == name]
    if not entries:
        names = sorted({e.name for e in list_models(search_dir)})
        raise ModelError(f"unknown model {name!r} (available: {', '.join(names)})")
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


def has_variant(name: str, zoom: int, type: str, search_dir: str | Path = ".") -> bool:
    """Whether model ``name`` has a file of its own for ``type`` at ``zoom`` (shipped or a user's)."""
    return any(e.name == name and e.type == type and zoom in e.scales for e in list_models(search_dir))


def open_model(
    name: str,
    zoom: int,
    type: str | None = None,
    *,
    device: str = "cpu",
    precision: str = "auto",
    backend: str = "auto",
    search_dir: str | Path = ".",
) -> Upscaler:
    """Load the one model file that ``name`` has at ``zoom`` (and ``type``, see :func:`find_model`).

    No chains and no policy: descreening first, the JPEG treatment and ensembles are
    :mod:`enhance.treatment`'s (its :func:`~enhance.treatment.load_model` is the public loader).

    Args:
        name: registry name.
        zoom: 1 to 4.
        type: content type preference ("photo", "print", "jpeg", ...).
        device: "cpu" or "cuda" (neural models only).
        precision: "fp32", "bf16" or "auto" (neural models only). On a CPU "auto" is fp32 on
            ONNX Runtime; "bf16" runs PyTorch with bfloat16 autocast. On CUDA "auto" is bf16.
        backend: neural models only: "onnxruntime" (fp32 on the CPU; what "auto" picks there
            unless bf16 is asked for), "torch" (CUDA, bfloat16), or "auto".
        search_dir: folder searched for user-trained ``ne{zoom}x-{type}-{name}.safetensors``.

    Raises:
        ModelError: unknown name, missing zoom, missing file or checksum mismatch.
    """
    entry, mfile = find_model(name, zoom, type, search_dir)
    if entry.arch == "classical":
        from .classical import ClassicalUpscaler

        return ClassicalUpscaler(entry.name, zoom)
    assert mfile is not None
    if mfile.problem:
        raise ModelError(mfile.problem)
    if not mfile.path.exists():
        raise ModelError(f"model {name!r} x{zoom}: weight file {mfile.path} is missing")
    if mfile.sha256 and _sha256(mfile.path) != mfile.sha256:
        raise ModelError(f"model {name!r} x{zoom}: {mfile.path} fails its sha256 check (corrupt or replaced)")
    if entry.arch == "raisr":
        from .raisr import RaisrUpscaler

        model: Upscaler = RaisrUpscaler.from_file(str(mfile.path), name)
    elif entry.arch == "generator":
        model = _open_generator(str(mfile.path), name, device, precision, backend)
    else:
        raise ModelError(f"model {name!r}: unknown architecture {entry.arch!r}")
    if mfile.sha256 is None:  # a user's file: its weights must give finite pixels of the right size
        _probe(model, mfile.path)
    return model


def _probe(model: Upscaler, path: Path) -> None:
    side = 16 * model.multiple_of
    x = np.linspace(0.0, 1.0, side * side * 3, dtype=np.float32).reshape(side, side, 3)
    y = model(x)
    if y.shape != (side * model.scale, side * model.scale, 3):
        raise ModelError(f"{path}: gives a {y.shape[1]}x{y.shape[0]} tile for a {side}x{side} one at x{model.scale}")
    if not np.isfinite(y).all():
        raise ModelError(f"{path}: gives non-finite pixels (broken weights); not used")


def _open_generator(path: str, name: str, device: str, precision: str, backend: str) -> Upscaler:
    if backend not in ("auto", "torch", "onnxruntime"):
        raise ModelError(f"unknown backend {backend!r} (auto, torch or onnxruntime)")
    if backend != "torch" and not device.startswith("cuda"):
        from . import onnx_runtime

        # on a CPU, "auto" is ONNX Runtime in fp32: exact, and it starts ~1 s sooner than
        # PyTorch; bf16 (PyTorch, ~20 % faster per pixel where the CPU has bf16 units and
        # 0.01 dB lower) only when asked for, as it pays off on long batches alone
        if backend == "onnxruntime" or precision != "bf16":
            if onnx_runtime.available():
                return onnx_runtime.OrtUpscaler.from_file(path, name)
            if backend == "onnxruntime":
                raise ModelError("backend onnxruntime asked for, but onnxruntime/onnx are not installed")
    try:
        from .torch_runtime import NeuralUpscaler
    except ImportError:  # torch missing: it is the `torch` extra
        why = ("--device cuda" if device.startswith("cuda") else "--precision bf16" if precision == "bf16"
               else "--backend torch" if backend == "torch" else "this model without ONNX Runtime")
        raise ModelError(f"{why} runs on PyTorch, which is not installed: pip install 'enhance[torch]'") from None
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ModelError("--device cuda asked for, but no CUDA device is available")
    return NeuralUpscaler.from_file(path, name, device, precision)
