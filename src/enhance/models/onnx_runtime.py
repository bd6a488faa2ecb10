"""Runs a trained generator with ONNX Runtime: the default for neural models on a CPU.

The network is rebuilt as an ONNX graph straight from the safetensors weights (the same file
the PyTorch path loads; nothing else is shipped), so inference needs neither torch nor an
exported copy. ONNX Runtime starts in a tenth of the time PyTorch takes to import and runs
these small convolution stacks at least as fast on a CPU, which is most of a one-picture
command's wall time. :mod:`enhance.models.torch_runtime` (PyTorch) stays the path for CUDA, for
bfloat16 and for training.

Building the graph needs the ``onnx`` package, whose import alone costs about 1.5 s on this
machine (most of a one-picture command). So each graph is built once and kept in a cache folder
(``$ENHANCE_CACHE``, else ``$XDG_CACHE_HOME/enhance``, else ``~/.cache/enhance``; ``ENHANCE_CACHE=``
empty turns it off), named by the sha256 of its weight file and the graph builder's version:
later runs hand ONNX Runtime the cached graph and never import ``onnx``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from .generator_config import GeneratorConfig

log = logging.getLogger(__name__)

__all__ = ["OrtUpscaler", "available", "cache_dir", "generator_onnx"]

_OPSET = 17
#: the graph builder's version: a cached graph made by another is not used
_GRAPH_VERSION = "1"


def available() -> bool:
    """True when ``onnxruntime`` can be imported (and ``onnx`` too, or a graph is cached)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def cache_dir() -> Path | None:
    """The folder of cached graphs, or None when caching is off (``ENHANCE_CACHE`` set empty)."""
    env = os.environ.get("ENHANCE_CACHE")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "enhance"


def _graph(path: str, config: GeneratorConfig, data: bytes) -> bytes:
    """The serialized graph of the weight file ``path`` (its bytes ``data``): cached, or built and cached."""
    folder = cache_dir()
    cached = None
    if folder is not None:
        key = hashlib.sha256(data + _GRAPH_VERSION.encode()).hexdigest()[:32]
        cached = folder / f"generator-{key}.onnx"
        try:
            return cached.read_bytes()
        except OSError:
            pass
    from .weightfile import read_tensors

    tensors, _meta = read_tensors(path)
    graph = generator_onnx(config, tensors)
    if cached is not None:
        try:  # best effort: an unwritable cache only costs the next run the build
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.tmp{os.getpid()}")
            tmp.write_bytes(graph)
            os.replace(tmp, cached)
        except OSError as exc:
            log.debug("graph cache %s not written: %s", cached, exc)
    return graph


def generator_onnx(config: GeneratorConfig, tensors: dict[str, np.ndarray]) -> bytes:
    """The ONNX model (serialized) of :class:`~enhance.models.generator.Generator` with
    ``config`` and the state-dict ``tensors`` (name -> float32 array, as saved by
    :func:`~enhance.models.generator.save_generator`).

    Input ``x``: ``(1, 3, H, W)`` float32 in [0, 1]; output ``y``: ``(1, 3, H*scale, W*scale)``.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits = [numpy_helper.from_array(np.ascontiguousarray(v, dtype=np.float32), k) for k, v in tensors.items()]
    names = iter(range(1_000_000))

    def tmp() -> str:
        return f"t{next(names)}"

    def conv(x: str, layer: str, k: int = 3, stride: int = 1, pad: int = 1) -> str:
        out = tmp()
        nodes.append(helper.make_node("Conv", [x, f"{layer}.weight", f"{layer}.bias"], [out], kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[pad] * 4))
        return out

    def op(kind: str, *inputs: str, **attrs: object) -> str:
        out = tmp()
        nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    feat = conv("x", "head")
    h = feat
    for i in range(config.downscale):
        h = op("Relu", conv(h, f"down.{i}", k=4, stride=2, pad=1))
    for b in range(config.blocks):
        t = conv(op("Relu", conv(h, f"body.{b}.conv1")), f"body.{b}.conv2")
        h = op("Add", h, t)
    h = conv(h, "body_end")
    if config.downscale == 0:
        h = op("Add", h, feat)
    r = config.scale * 2 ** config.downscale
    out = op("DepthToSpace", conv(h, "tail"), blocksize=r, mode="CRD")
    if config.residual:
        base = "x"
        if config.scale > 1:
            s = float(config.scale)
            inits.append(numpy_helper.from_array(np.array([1.0, 1.0, s, s], np.float32), "resize_scales"))
            base = op("Resize", "x", "", "resize_scales", mode="linear",
                      coordinate_transformation_mode="half_pixel")
        out = op("Add", out, base)
    nodes.append(helper.make_node("Identity", [out], ["y"]))
    graph = helper.make_graph(
        nodes, "enhance_generator",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, config.channels, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, config.channels, "sH", "sW"])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="enhance")
    return model.SerializeToString()


class OrtUpscaler:
    """A generator network run by ONNX Runtime, behind the Upscaler interface (fp32, CPU).

    Gray input is replicated to RGB and the three outputs averaged back, as in
    :class:`~enhance.models.torch_runtime.NeuralUpscaler`.

    Args:
        config: the network's hyper-parameters.
        tensors: its weights (state-dict names -> float32 arrays), or None with ``graph``.
        name: registry name.
        threads: intra-op threads (0: ONNX Runtime's default, one per physical core).
        graph: the serialized ONNX graph, when already built (:func:`generator_onnx`).
    """

    precision = "fp32"

    def __init__(self, config: GeneratorConfig, tensors: dict[str, np.ndarray] | None, name: str, threads: int = 0,
                 graph: bytes | None = None) -> None:
        import onnxruntime as ort

        self.name = name
        self.config = config
        self.scale = config.scale
        self.context = config.receptive_radius
        self.multiple_of = config.multiple_of
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        if graph is None:
            assert tensors is not None, "the weights or a built graph"
            graph = generator_onnx(config, tensors)
        self._session = ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"])

    @classmethod
    def from_file(cls, path: str, name: str, threads: int = 0) -> "OrtUpscaler":
        """Load a generator file written by :func:`~enhance.models.generator.save_generator`
        (its graph from the cache when built before)."""
        from ..errors import ModelError
        from .weightfile import read_header

        meta = read_header(path)
        if meta.get("arch") != "generator":
            raise ModelError(f"{path}: not a generator model (arch={meta.get('arch')!r})")
        config = GeneratorConfig(**json.loads(meta["config"]))
        if threads == 0 and os.environ.get("OMP_NUM_THREADS", "").isdigit():
            threads = int(os.environ["OMP_NUM_THREADS"])
        return cls(config, None, name, threads, graph=_graph(path, config, Path(path).read_bytes()))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        c = x.shape[2]
        t = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        if c == 1:
            t = np.ascontiguousarray(np.repeat(t, 3, axis=1))
        (y,) = self._session.run(["y"], {"x": t})
        y = y[0].transpose(1, 2, 0)
        if c == 1:
            y = y.mean(axis=2, keepdims=True)
        return np.ascontiguousarray(y, dtype=np.float32)
