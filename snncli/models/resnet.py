"""CIFAR ResNet-32 (He et al., 2016, *Deep Residual Learning*, sec. 4.2) as a frozen feature extractor.

Three stages of five basic blocks with 16, 32 and 64 channels. The G2G seed truncates it after
the second stage and pools to 4x4, giving 32 * 4 * 4 = 512 features that feed the SNN.
Not a spiking model, so not in the model registry: ``snn backbone train`` builds and trains it.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

FEATURES = 512


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut (1x1 conv-BN when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet32(nn.Module):
    """ResNet-32 for 32x32 inputs; :meth:`features` is the seed's truncated, pooled extractor."""

    def __init__(self, num_classes: int = 10, in_channels: int = 3, blocks: int = 5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.stage1 = self._stage(16, 16, blocks, 1)
        self.stage2 = self._stage(16, 32, blocks, 2)
        self.stage3 = self._stage(32, 64, blocks, 2)
        self.fc = nn.Linear(64, num_classes)

    @staticmethod
    def _stage(cin: int, cout: int, blocks: int, stride: int) -> nn.Sequential:
        return nn.Sequential(BasicBlock(cin, cout, stride), *(BasicBlock(cout, cout) for _ in range(blocks - 1)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 3, 32, 32]`` in [0, 1] -> ``[B, 512]``: stem, stages 1-2, 4x4 average pooling."""
        h = self.stage2(self.stage1(self.stem(x)))
        return F.adaptive_avg_pool2d(h, 4).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))
