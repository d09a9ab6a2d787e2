"""A small generated dataset that needs no files.

Each class has a fixed smooth prototype (random 7x7 values upsampled to 28x28);
a sample is its class prototype at a random contrast plus pixel noise. A small
spiking network learns it far above chance within one epoch, which makes it the
dataset of the CLI tests and of quick experiments on machines without data.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from snncli.data._registry import register_dataset
from snncli.data.dataset import DataSplits, ImageSet

SEED = 1234
NUM_CLASSES = 10
IMAGE_SIDE = 28
NUM_TRAIN = 2000
NUM_TEST = 500
NOISE_STD = 0.3
"""Pixel noise, in units of full intensity; large enough that the task is not solved by one pixel."""


def _prototypes(g: torch.Generator, channels: int = 1, side: int = IMAGE_SIDE) -> torch.Tensor:
    coarse = torch.rand(NUM_CLASSES, channels, 7, 7, generator=g)
    fine = F.interpolate(coarse, size=(side, side), mode="bilinear", align_corners=False)
    lo = fine.amin(dim=(1, 2, 3), keepdim=True)
    hi = fine.amax(dim=(1, 2, 3), keepdim=True)
    return (fine - lo) / (hi - lo)


def _samples(prototypes: torch.Tensor, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    # Exactly balanced classes in random order.
    y = (torch.arange(n) % NUM_CLASSES)[torch.randperm(n, generator=g)]
    contrast = 0.5 + 0.5 * torch.rand(n, 1, 1, 1, generator=g)
    noise = NOISE_STD * torch.randn(n, *prototypes.shape[1:], generator=g)
    x = (prototypes[y] * contrast + noise).clamp_(0.0, 1.0)
    return (x * 255.0).round_().to(torch.uint8), y


def make_synthetic(
    num_train: int = NUM_TRAIN, num_test: int = NUM_TEST, seed: int = SEED,
    channels: int = 1, side: int = IMAGE_SIDE, name: str = "synthetic",
) -> DataSplits:
    """Generates the synthetic splits; the same arguments always give the same tensors.

    Args:
        num_train: Training images.
        num_test: Test images.
        seed: Seeds prototypes and samples.
        channels: Image channels (3 for the CIFAR-shaped variant).
        side: Image height and width.
        name: Dataset name stored in the splits.

    Returns:
        ``uint8`` images ``[N, channels, side, side]`` with 10 balanced classes, source ``"generated"``.
    """
    g = torch.Generator().manual_seed(seed)
    prototypes = _prototypes(g, channels, side)
    classes = [f"class_{k}" for k in range(NUM_CLASSES)]
    train_x, train_y = _samples(prototypes, num_train, g)
    test_x, test_y = _samples(prototypes, num_test, g)
    return DataSplits(
        train=ImageSet(train_x, train_y, classes, name),
        test=ImageSet(test_x, test_y, list(classes), name),
        source="generated",
    )


@register_dataset("synthetic")
def synthetic(folder: Path | None) -> DataSplits:
    """Generated 28x28 grey prototypes plus noise, 10 classes, 2000 train / 500 test; needs no files."""
    return make_synthetic()


@register_dataset("synthetic-cifar", family="cifar", defaults={"augment": "crop-flip"})
def synthetic_cifar(folder: Path | None) -> DataSplits:
    """Generated CIFAR-shaped images (3x32x32 colour prototypes plus noise), 10 classes, 1000 train / 200 test."""
    return make_synthetic(1000, 200, seed=SEED + 1, channels=3, side=32, name="synthetic-cifar")
