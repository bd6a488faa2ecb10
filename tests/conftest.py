"""Shared fixtures: tiny images of every supported kind, written to a temporary folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def smooth_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, deterministic test picture (gradients plus a few edges), uint8 RGB."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 127 + 100 * np.sin(x / 7.0 + seed)
    g = 127 + 100 * np.cos(y / 9.0)
    b = np.where((x // 8 + y // 8) % 2 == 0, 40, 210).astype(np.float32)
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def free_port() -> int:
    """A free TCP port on loopback (for a server or a Ray cluster a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def sample_png(tmp_path: Path) -> Path:
    p = tmp_path / "sample.png"
    Image.fromarray(smooth_rgb(20, 24)).save(p, dpi=(300, 300))
    return p


@pytest.fixture(autouse=True, scope="session")
def _graph_cache(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Built ONNX graphs go to a folder of this test session, not the user's cache."""
    import os

    old = os.environ.get("ENHANCE_CACHE")
    os.environ["ENHANCE_CACHE"] = str(tmp_path_factory.mktemp("graph-cache"))
    yield
    if old is None:
        os.environ.pop("ENHANCE_CACHE", None)
    else:
        os.environ["ENHANCE_CACHE"] = old
