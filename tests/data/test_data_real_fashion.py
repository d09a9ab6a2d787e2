"""The real Fashion-MNIST from the Debian ``dataset-fashion-mnist`` package."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from snncli.data import load_dataset

SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.skipif(not SYSTEM_COPY.is_dir(), reason="apt-get install -y dataset-fashion-mnist to run")
def test_real_fashion_mnist():
    splits = load_dataset("fashionmnist", download=False)
    assert splits.source == str(SYSTEM_COPY)
    assert (len(splits.train), len(splits.test)) == (60000, 10000)
    assert splits.train.shape == (1, 28, 28) and splits.train.x.dtype == torch.uint8
    assert splits.train.y.unique().tolist() == list(range(10))
    assert splits.train.y.bincount().tolist() == [6000] * 10
    assert splits.test.y.bincount().tolist() == [1000] * 10
    assert splits.train.classes[0] == "T-shirt/top" and splits.train.classes[9] == "Ankle boot"
    # Real images, not noise: a fair share of pixels is exactly background.
    assert 0.3 < (splits.train.x[:1000] == 0).float().mean() < 0.7
