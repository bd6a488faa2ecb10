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

    def check(self) -> None:
        """Refuse values no trained generator has (a hostile or broken file's config).

        Raises:
            ValueError: naming the first field out of bounds.
        """
        ints = {"scale": (1, 4), "blocks": (1, 64), "filters": (1, 256), "downscale": (0, 3), "channels": (3, 3)}
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"config {name}={v!r} is outside {lo}..{hi}")
        if not isinstance(self.residual, bool):
            raise ValueError(f"config residual={self.residual!r} is not true or false")

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """The state-dict names and shapes of :class:`~enhance.models.generator.Generator` with
        this configuration (what its weight file must hold, no more and no less)."""
        c, f = self.channels, self.filters
        r = self.scale * 2 ** self.downscale
        shapes: dict[str, tuple[int, ...]] = {"head.weight": (f, c, 3, 3), "head.bias": (f,)}
        for i in range(self.downscale):
            shapes.update({f"down.{i}.weight": (f, f, 4, 4), f"down.{i}.bias": (f,)})
        for i in range(self.blocks):
            for conv in ("conv1", "conv2"):
                shapes.update({f"body.{i}.{conv}.weight": (f, f, 3, 3), f"body.{i}.{conv}.bias": (f,)})
        shapes.update({"body_end.weight": (f, f, 3, 3), "body_end.bias": (f,),
                       "tail.weight": (c * r * r, f, 3, 3), "tail.bias": (c * r * r,)})
        return shapes

    @property
    def multiple_of(self) -> int:
        """Input sides must be multiples of this (pad the input otherwise)."""
        return 2 ** self.downscale

    @property
    def receptive_radius(self) -> int:
        """An upper bound on the input pixels each output pixel depends on, per side."""
        return (2 + 2 * self.blocks) * (2 ** self.downscale) + 2 * self.downscale
