"""The generator's hyper-parameters and CPU facts, without importing torch.

:mod:`enhance.models.generator` (PyTorch, for training and CUDA) and
:mod:`enhance.models.onnx_runtime` (ONNX Runtime, the default on a CPU) both build the network this
configuration describes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

__all__ = ["GeneratorConfig", "bf16_supported"]


def bf16_supported() -> bool:
    """True when this CPU has native bfloat16 matrix units (AMX or AVX512-BF16)."""
    try:
        with open("/proc/cpuinfo") as fh:
            flags = fh.read()
        return " amx_bf16" in flags or " avx512_bf16" in flags
    except OSError:
        return False


@dataclass(frozen=True)
class GeneratorConfig:
    """Hyper-parameters of :class:`Generator` (the ``--generator-*`` flags).

    Attributes:
        scale: zoom factor, 1 (repair) to 4.
        blocks: number of residual blocks (``--generator-blocks``).
        filters: feature channels (``--generator-filters``).
        downscale: stride-2 stages after the head, undone in the tail (``--generator-downscale``).
        residual: add a bilinear upsample of the input to the output (``--generator-residual``).
        channels: image channels (3, RGB).
    """

    scale: int = 2
    blocks: int = 4
    filters: int = 64
    downscale: int = 0
    residual: bool = True
    channels: int = 3

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "GeneratorConfig":
        return cls(**json.loads(text))

    @property
    def multiple_of(self) -> int:
        """Input sides must be multiples of this (pad the input otherwise)."""
        return 2 ** self.downscale

    @property
    def receptive_radius(self) -> int:
        """An upper bound on the input pixels each output pixel depends on, per side."""
        return (2 + 2 * self.blocks) * (2 ** self.downscale) + 2 * self.downscale
