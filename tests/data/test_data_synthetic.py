"""The generated dataset."""

from __future__ import annotations

import torch

from snncli.data import load_dataset, search_paths


def test_synthetic_shapes_and_balance():
    splits = load_dataset("synthetic")
    assert splits.source == "generated"
    assert (len(splits.train), len(splits.test)) == (2000, 500)
    assert splits.train.x.shape == (2000, 1, 28, 28) and splits.train.x.dtype == torch.uint8
    assert splits.train.shape == (1, 28, 28) and splits.train.num_classes == 10
    assert splits.train.y.bincount().tolist() == [200] * 10
    assert splits.test.y.bincount().tolist() == [50] * 10
    assert search_paths("synthetic") == []


def test_synthetic_is_deterministic():
    a, b = load_dataset("synthetic"), load_dataset("synthetic")
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.train.y, b.train.y)
    assert torch.equal(a.test.x, b.test.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.x[:500], a.test.x)


def test_synthetic_is_learnable_but_noisy():
    splits = load_dataset("synthetic")
    x = splits.train.x.flatten(1).float() / 255
    xt = splits.test.x.flatten(1).float() / 255
    means = torch.stack([x[splits.train.y == k].mean(0) for k in range(10)])
    predicted = torch.cdist(xt, means).argmin(1)
    assert (predicted == splits.test.y).float().mean() > 0.9
    # Not a lookup table: samples of one class differ from each other.
    same_class = x[splits.train.y == 0]
    assert (same_class - same_class.mean(0)).abs().mean() > 0.1
