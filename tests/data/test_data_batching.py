"""ImageSet, iterate_batches, train_val_split and stratified_kfold."""

from __future__ import annotations

import pytest
import torch

from snncli.data import ImageSet, contiguous_kfold, iterate_batches, stratified_kfold, train_val_split


def _indexed_set(n: int = 103, num_classes: int = 5) -> ImageSet:
    """Image i holds the value i % 256 in pixel (0, 0, 0) and i // 256 in (0, 0, 1)."""
    x = torch.zeros(n, 1, 2, 2, dtype=torch.uint8)
    x[:, 0, 0, 0] = torch.arange(n) % 256
    x[:, 0, 0, 1] = torch.arange(n) // 256
    x[:, 0, 1, 1] = 255
    y = torch.arange(n) % num_classes
    return ImageSet(x, y, [f"c{k}" for k in range(num_classes)], "indexed")


def _ids(xb: torch.Tensor) -> list[int]:
    return (xb[:, 0, 0, 0] * 255 + xb[:, 0, 0, 1] * 255 * 256).round().long().tolist()


def test_imageset_basics():
    ds = _indexed_set(10)
    assert len(ds) == 10 and ds.shape == (1, 2, 2) and ds.num_classes == 5
    assert ds.to("cpu") is ds
    part = ds.subset(torch.tensor([7, 2]))
    assert part.y.tolist() == [2, 2] and part.x[0, 0, 0, 0] == 7 and part.classes == ds.classes
    with pytest.raises(ValueError, match="labels"):
        ImageSet(torch.zeros(3, 1, 2, 2), torch.zeros(2, dtype=torch.long), ["a"], "bad")
    with pytest.raises(ValueError, match="images"):
        ImageSet(torch.zeros(3, 4), torch.zeros(3, dtype=torch.long), ["a"], "bad")


def test_shuffled_epoch_covers_every_sample_once():
    ds = _indexed_set(103)
    seen, sizes = [], []
    for xb, yb in iterate_batches(ds, 16, shuffle=True, generator=torch.Generator().manual_seed(0)):
        assert xb.dtype == torch.float32 and yb.dtype == torch.int64
        assert xb.shape[1:] == (1, 2, 2)
        assert 0.0 <= xb.min() and xb.max() <= 1.0 and xb[:, 0, 1, 1].eq(1.0).all()
        ids = _ids(xb)
        assert yb.tolist() == [i % 5 for i in ids]  # labels stay with their images
        seen += ids
        sizes.append(len(ids))
    assert sorted(seen) == list(range(103))
    assert seen != list(range(103))
    assert sizes == [16] * 6 + [7]


def test_same_seed_same_order_other_seed_other_order():
    ds = _indexed_set(50)

    def order(seed):
        return [i for xb, _ in iterate_batches(ds, 8, shuffle=True, generator=torch.Generator().manual_seed(seed))
                for i in _ids(xb)]  # fmt: skip

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_unshuffled_keeps_file_order_and_drop_last():
    ds = _indexed_set(20)
    batches = list(iterate_batches(ds, 6, shuffle=False, drop_last=True))
    assert len(batches) == 3
    assert [i for xb, _ in batches for i in _ids(xb)] == list(range(18))


def test_float_images_are_not_aliased():
    ds = ImageSet(torch.rand(6, 1, 2, 2), torch.zeros(6, dtype=torch.long), ["a"], "float")
    before = ds.x.clone()
    for start, (xb, _) in zip((0, 3), iterate_batches(ds, 3, shuffle=False)):
        assert torch.equal(xb, before[start : start + 3])
        xb.add_(5.0)  # an in-place edit by the caller must not reach the dataset
    assert torch.equal(ds.x, before)


def test_device_argument_moves_batches():
    ds = _indexed_set(4)
    xb, yb = next(iterate_batches(ds, 4, shuffle=False, device="cpu"))
    assert xb.device.type == "cpu" and yb.device.type == "cpu"


def test_bad_batch_size_is_refused_immediately():
    with pytest.raises(ValueError, match="batch_size"):
        iterate_batches(_indexed_set(4), 0, shuffle=False)


def _unbalanced_labels() -> torch.Tensor:
    counts = [30, 21, 17, 9]
    return torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])[torch.randperm(77)]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_kfold_partitions_and_balances(k):
    torch.manual_seed(0)
    y = _unbalanced_labels()
    folds = stratified_kfold(y, k, seed=7)
    assert len(folds) == k
    vals = [set(v.tolist()) for _, v in folds]
    assert sum(len(v) for v in vals) == len(y) and set().union(*vals) == set(range(len(y)))
    for train, val in folds:
        assert set(train.tolist()).isdisjoint(val.tolist())
        assert len(train) + len(val) == len(y)
        assert train.dtype == torch.int64 and torch.equal(train, train.sort().values)
    sizes = [len(v) for v in vals]
    assert max(sizes) - min(sizes) <= 1
    per_class = torch.stack([torch.bincount(y[v], minlength=4) for _, v in folds])
    assert ((per_class.max(0).values - per_class.min(0).values) <= 1).all()


def test_kfold_is_deterministic_and_seeded():
    y = torch.arange(60) % 3
    a, b, c = (stratified_kfold(y, 4, seed=s) for s in (1, 1, 2))
    assert all(torch.equal(va, vb) for (_, va), (_, vb) in zip(a, b))
    assert any(not torch.equal(va, vc) for (_, va), (_, vc) in zip(a, c))


def test_kfold_validates_k():
    with pytest.raises(ValueError):
        stratified_kfold(torch.arange(5), 1, seed=0)
    with pytest.raises(ValueError):
        stratified_kfold(torch.arange(5), 6, seed=0)


def test_train_val_split_is_stratified_and_deterministic():
    ds = _indexed_set(200, num_classes=4)
    train, val = train_val_split(ds, 0.2, seed=3)
    assert (len(train), len(val)) == (160, 40)
    assert val.y.bincount().tolist() == [10, 10, 10, 10]
    train_ids, val_ids = set(_ids(train.x.float() / 255)), set(_ids(val.x.float() / 255))
    assert train_ids.isdisjoint(val_ids) and train_ids | val_ids == set(range(200))
    again_train, again_val = train_val_split(ds, 0.2, seed=3)
    assert torch.equal(again_val.x, val.x) and torch.equal(again_train.y, train.y)
    _, other = train_val_split(ds, 0.2, seed=4)
    assert not torch.equal(other.x, val.x)


def test_train_val_split_keeps_every_class_in_training():
    x = torch.zeros(5, 1, 1, 1, dtype=torch.uint8)
    ds = ImageSet(x, torch.tensor([0, 0, 0, 0, 1]), ["a", "b"], "tiny")
    train, val = train_val_split(ds, 0.9, seed=0)
    assert set(train.y.tolist()) == {0, 1}
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ds, 1.0, seed=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_on_gpu():
    ds = _indexed_set(40).to("cuda")
    for generator in (torch.Generator().manual_seed(0), torch.Generator(device="cuda").manual_seed(0)):
        seen = []
        for xb, yb in iterate_batches(ds, 16, shuffle=True, generator=generator):
            assert xb.is_cuda and yb.is_cuda and xb.dtype == torch.float32
            seen += _ids(xb)
        assert sorted(seen) == list(range(40))
    xb, _ = next(iterate_batches(_indexed_set(8), 8, shuffle=False, device="cuda"))
    assert xb.is_cuda and _ids(xb) == list(range(8))


def test_contiguous_kfold_is_unshuffled_blocks_with_the_remainder_last():
    folds = contiguous_kfold(11, 3)
    assert [v.tolist() for _, v in folds] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9, 10]]
    for train, val in folds:
        assert sorted(train.tolist() + val.tolist()) == list(range(11))
    with pytest.raises(ValueError, match="between 2"):
        contiguous_kfold(5, 1)
