"""CIFAR ResNet-32 (He et al., 2016, *Deep Residual Learning*, sec. 4.2) as a frozen feature extractor.

Three stages of five basic blocks with 16, 32 and 64 channels. Two ways to read features, as the
G2G seed's code and README disagree:

* whole network (the seed's code): all three stages, average-pooled to 4x4, 64 * 16 = 1024 features;
* ``cut`` (the seed's README): truncated after the second stage, pooled to 4x4, 32 * 16 = 512.

Weights come from ``snn backbone train`` or from the public pretrained CIFAR ResNet-32 the seed
loads (``chenyaofo/pytorch-cifar-models``), whose state-dict layout :func:`from_cifar_models_layout`
translates. Not a spiking model, so not in the model registry.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

FEATURES = {False: 1024, True: 512}  # by `cut`

#: Input normalisation the seed applies before the pretrained network (data/cifar10_100.py).
SEED_MEAN, SEED_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


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

    def features(self, x: torch.Tensor, cut: bool = False) -> torch.Tensor:
        """``[B, 3, 32, 32]`` -> ``[B, 1024]`` (all stages) or ``[B, 512]`` (``cut`` after stage 2), 4x4 average pooling."""
        h = self.stage2(self.stage1(self.stem(x)))
        if not cut:
            h = self.stage3(h)
        return F.adaptive_avg_pool2d(h, 4).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


def _translate(key: str) -> str:
    """One ``chenyaofo/pytorch-cifar-models`` key in this module's names (``conv1`` -> ``stem.0``, ...)."""
    head, _, rest = key.partition(".")
    if head == "conv1":
        return "stem.0." + rest
    if head == "bn1":
        return "stem.1." + rest
    if head.startswith("layer"):
        return "stage" + head[len("layer"):] + "." + rest.replace("downsample.", "shortcut.")
    return key


def from_cifar_models_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict in ``chenyaofo/pytorch-cifar-models``' ``CifarResNet`` layout (``conv1``, ``bn1``,
    ``layer1.0.conv1``, ``layer2.0.downsample.0``, ``fc``), renamed for :class:`ResNet32`; ours passes as is."""
    if "stem.0.weight" in state:
        return dict(state)
    if "conv1.weight" not in state or "layer1.0.conv1.weight" not in state:
        raise ValueError("not a CIFAR ResNet state dict (no conv1.weight / layer1.0.conv1.weight)")
    return {_translate(k): v for k, v in state.items()}
