"""The document detector: an ImageNet MobileNetV2 encoder (blocks 1-13, stride 16) and
a small feature-pyramid decoder that predicts, for every cell of a 64 x 64 grid over the
stretched photo, the logit that the cell lies on a document.

The mask covers the whole document, including parts under fingers or glare, so that
straight lines fitted to its boundary give the outline even where the edge is hidden.
A pooled global feature is added at the coarsest level: whether an outline is a card or
the phone around it is a question about the whole view.
"""

from __future__ import annotations

import torch
from torch import nn

from liveness_training.model import MEAN, STD, mobilenet_v2_imagenet

from .grid import GRID, SIDE

WIDTH = 64

__all__ = ["DocNet", "SIDE", "GRID", "MEAN", "STD"]


def _cbr(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DocNet(nn.Module):
    """Normalised RGB (N, 3, 256, 256) -> document logits (N, 1, 64, 64)."""

    def __init__(self, pretrained: bool = True):
        super().__init__()
        f = mobilenet_v2_imagenet(pretrained).features
        self.s4, self.s8, self.s16 = f[:4], f[4:7], f[7:14]
        self.lat16, self.glob = _cbr(96, WIDTH), nn.Conv2d(96, WIDTH, 1)
        self.lat8, self.lat4 = _cbr(32, WIDTH), _cbr(24, WIDTH)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.head = nn.Sequential(_cbr(WIDTH, WIDTH, 3, groups=WIDTH), _cbr(WIDTH, 32), _cbr(32, 32, 3, groups=32), nn.Conv2d(32, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.s4(x)
        b = self.s8(a)
        c = self.s16(b)
        p = self.lat16(c) + self.glob(c.mean((2, 3), keepdim=True))
        p = self.up(p) + self.lat8(b)
        p = self.up(p) + self.lat4(a)
        return self.head(p)
