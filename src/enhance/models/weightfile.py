"""Weight files: the one reader of a safetensors header and tensors, and the one writer.

Every model file Enhance reads or writes (generators, RAISR filter sets, shipped or a user's)
is safetensors with string metadata in its header: ``arch``, ``config`` (JSON), ``scale``,
``name``, ``type``, ``lineage``. Reading never unpickles anything; writing goes to a temporary
name beside the target and is renamed into place, so a crash never leaves a half-written model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ModelError

__all__ = ["read_header", "read_shapes", "read_tensors", "write_tensors", "publish"]


def read_header(path: str | os.PathLike[str]) -> dict[str, str]:
    """The string metadata of a safetensors file (``{}`` when it has none).

    Raises:
        ModelError: the file is missing or not a readable safetensors file (one line, naming it).
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return dict(f.metadata() or {})
    except Exception as exc:
        raise ModelError(f"{path}: not a readable safetensors model ({exc})") from None


def read_shapes(path: str | os.PathLike[str]) -> dict[str, tuple[int, ...]]:
    """Every tensor's name and shape, read from the header alone (no tensor data is loaded).

    Raises:
        ModelError: the file is missing or not a readable safetensors file.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return {k: tuple(int(n) for n in f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:
        raise ModelError(f"{path}: not a readable safetensors model ({exc})") from None


def read_tensors(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every tensor of a safetensors file as NumPy arrays (name -> array), and its metadata.

    Raises:
        ModelError: the file is missing or not a readable safetensors file.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise ModelError(f"{path}: not a readable safetensors model ({exc})") from None
    return tensors, meta


def write_tensors(path: str | os.PathLike[str], tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write ``tensors`` (name -> NumPy array) with ``metadata`` to ``path``, atomically."""
    from safetensors.numpy import save_file

    tmp = f"{path}.tmp{os.getpid()}"
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, tmp, metadata=metadata)
    publish(tmp, path)


def publish(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Rename the finished temporary file ``tmp`` onto ``path``, first giving it the permissions
    of a normally created file (safetensors creates its files owner-only, 0600, which would
    hide a trained model from the rest of a team)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, Path(path))
