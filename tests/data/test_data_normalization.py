"""Input statistics: the seed's constants, measured ones, and channel broadcasting."""

import pytest
import torch

from snncli.data import SEED_STATS, broadcast_stats, normalization_stats
from snncli.data.normalization import measured_stats


def test_the_seeds_constants():
    assert normalization_stats("cifar10") == ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
    assert normalization_stats("cifar10-random-small-500") == SEED_STATS["cifar10"]
    assert normalization_stats("mnist") == ((0.1307,), (0.3081,))
    assert normalization_stats("imagenet100")[0] == (0.485, 0.456, 0.406)
    with pytest.raises(ValueError, match="fashionmnist"):
        normalization_stats("fashionmnist")


def test_other_datasets_are_measured_on_their_training_images():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (500, 2, 4, 4), generator=g, dtype=torch.uint8)
    mean, std = normalization_stats("cifar100", x)
    ref = x.double() / 255
    assert mean == pytest.approx(ref.mean((0, 2, 3)).tolist(), abs=1e-4)
    assert std == pytest.approx(ref.std((0, 2, 3), unbiased=False).tolist(), abs=1e-4)
    assert measured_stats(ref.float(), chunk=7) == (mean, std)  # floats in [0, 1], chunked alike


def test_broadcast_to_the_networks_channels():
    assert broadcast_stats(((0.1,), (0.3,)), 3) == ((0.1, 0.1, 0.1), (0.3, 0.3, 0.3))
    assert broadcast_stats(SEED_STATS["cifar10"], 3) == SEED_STATS["cifar10"]
    with pytest.raises(ValueError, match="2 channels"):
        broadcast_stats(((0.1, 0.2), (0.3, 0.3)), 3)
