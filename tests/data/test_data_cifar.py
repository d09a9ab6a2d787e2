"""CIFAR batch reader, CIFAR-10/100 and the CIFAR-10 subsets."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from snncli.data import CorruptDatasetError, load_dataset
from snncli.data.cifar import CIFAR10_CLASSES, read_cifar_batch


def _ids(x: torch.Tensor) -> list[int]:
    """Recovers the ids written into the first two bytes of every image."""
    flat = x.reshape(len(x), -1).to(torch.int64)
    return (flat[:, 0] + 256 * flat[:, 1]).tolist()


def test_batch_layout_is_planar_rgb(tmp_path, fake):
    fake.dump(tmp_path / "b", {b"data": fake.cifar_images(np.arange(4)), b"labels": [3, 1, 4, 1]})
    x, y = read_cifar_batch(tmp_path / "b")
    assert x.shape == (4, 3, 32, 32) and x.dtype == np.uint8
    assert y.tolist() == [3, 1, 4, 1] and y.dtype == np.int64
    assert (x[:, 1, 0, 0] == 7).all() and (x[:, 2, 31, 31] == 9).all()
    assert x[2, 0, 0, 0] == 2 and x[2, 1, 0, 1] == 0


def test_cifar10_from_root(tmp_path, fake):
    fake.cifar10_folder(tmp_path / "cifar-10-batches-py", per_batch=20, n_test=30)
    splits = load_dataset("cifar10", root=tmp_path, download=False)
    assert splits.source == str(tmp_path / "cifar-10-batches-py")
    assert (len(splits.train), len(splits.test)) == (100, 30)
    assert splits.train.shape == (3, 32, 32) and splits.train.x.dtype == torch.uint8
    assert _ids(splits.train.x) == list(range(100))  # batches concatenated in order
    assert splits.train.y.tolist() == [i % 10 for i in range(100)]
    assert splits.test.y.tolist() == [(3 * i) % 10 for i in range(30)]
    assert splits.train.classes == [f"name{k}" for k in range(10)]


def test_cifar10_without_meta_uses_standard_names(tmp_path, fake):
    fake.cifar10_folder(tmp_path, per_batch=10, n_test=10, meta=False)
    assert load_dataset("cifar10", root=tmp_path, download=False).train.classes == CIFAR10_CLASSES


def test_cifar100_from_root(tmp_path, fake):
    fake.cifar100_folder(tmp_path / "cifar-100-python", n_train=200, n_test=100)
    splits = load_dataset("cifar100", root=tmp_path, download=False)
    assert (len(splits.train), len(splits.test)) == (200, 100)
    assert splits.train.num_classes == 100 and splits.train.classes[5] == "fine5"
    assert splits.train.y.tolist() == [i % 100 for i in range(200)]


def test_foreign_globals_are_refused(tmp_path, fake):
    fake.cifar10_folder(tmp_path, per_batch=10, n_test=10)

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": Evil()}, f)
    with pytest.raises(CorruptDatasetError, match="test_batch.*not allowed"):
        load_dataset("cifar10", root=tmp_path, download=False)


def test_bad_data_shape_is_rejected(tmp_path, fake):
    fake.dump(tmp_path / "b", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    with pytest.raises(CorruptDatasetError, match="uint8 \\[N, 3072\\]"):
        read_cifar_batch(tmp_path / "b")


def test_truncated_pickle_is_rejected(tmp_path, fake):
    fake.cifar10_folder(tmp_path, per_batch=10, n_test=10)
    batch = tmp_path / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:500])
    with pytest.raises(CorruptDatasetError, match="data_batch_3"):
        load_dataset("cifar10", root=tmp_path, download=False)


@pytest.mark.parametrize(
    ("name", "n_train", "n_test"),
    [
        ("cifar10-down-50", 500, 500),
        ("cifar10-random-small-100", 100, 100),
        ("cifar10-random-small-500", 500, 500),
        ("cifar10-random-small-gaussian-noise-0.5", 500, 500),
    ],
)
def test_subsets_are_balanced_and_deterministic(tmp_path, fake, name, n_train, n_test):
    fake.cifar10_folder(tmp_path)  # 60 images per class in each split
    a = load_dataset(name, root=tmp_path, download=False)
    b = load_dataset(name, root=tmp_path, download=False)
    assert (len(a.train), len(a.test)) == (n_train, n_test)
    assert a.train.y.bincount().tolist() == [n_train // 10] * 10
    assert a.test.y.bincount().tolist() == [n_test // 10] * 10
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert a.train.name == name


def test_down_50_takes_the_first_images_of_each_class(tmp_path, fake):
    fake.cifar10_folder(tmp_path)
    splits = load_dataset("cifar10-down-50", root=tmp_path, download=False)
    # Train image i has label i % 10, so the first 50 of each class are ids 0..499.
    assert _ids(splits.train.x) == list(range(500))


def test_random_subsets_are_random_but_fixed(tmp_path, fake):
    fake.cifar10_folder(tmp_path)
    small = load_dataset("cifar10-random-small-100", root=tmp_path, download=False)
    ids = _ids(small.train.x)
    assert ids == sorted(ids) and ids != list(range(100))
    labels_of_ids = [i % 10 for i in ids]
    assert labels_of_ids == small.train.y.tolist()


def test_gaussian_noise_subset(tmp_path, fake):
    fake.cifar10_folder(tmp_path)
    clean = load_dataset("cifar10-random-small-500", root=tmp_path, download=False)
    noisy = load_dataset("cifar10-random-small-gaussian-noise-0.5", root=tmp_path, download=False)
    assert noisy.train.x.dtype == torch.float32
    assert noisy.train.x.min() >= 0 and noisy.train.x.max() <= 1
    assert torch.equal(noisy.train.y, clean.train.y) and torch.equal(noisy.test.y, clean.test.y)
    # On black pixels the clipped noise is max(0, n), n ~ N(0, 0.5^2): zero half the time,
    # mean 0.5 / sqrt(2 pi) ~ 0.1995. A wrong std or a missing clip moves both numbers.
    black = noisy.train.x[clean.train.x == 0]
    assert black.numel() > 100_000
    assert abs((black == 0).float().mean().item() - 0.5) < 0.01
    assert abs(black.mean().item() - 0.5 / (2 * torch.pi) ** 0.5) < 0.005
    assert not torch.equal(noisy.train.x, noisy.test.x[: len(noisy.train.x)])


@pytest.mark.parametrize(
    "name,n,balanced",
    [
        ("cifar10-down-50", 1000, True),
        ("cifar10-random-small-100", 100, False),
        ("cifar10-random-small-500", 500, False),
        ("cifar10-random-small-gaussian-noise-0.5", 100, False),
    ],
)
def test_seed_code_subsets_are_its_numpy_draws(tmp_path, fake, name, n, balanced):
    """--subset-sampling seed: the indices numpy.random.seed(42) gives the seed's create_*_subset, in that order."""
    fake.cifar10_folder(tmp_path, per_batch=240, n_test=1200)  # 1200 train (label = id % 10), 1200 test
    splits = load_dataset(name, root=tmp_path, download=False, subset_sampling="seed")
    assert (len(splits.train), len(splits.test)) == (n, n) and splits.train.x.dtype == torch.uint8
    if balanced:  # the seed's loop: per class in class order, then one shuffle, all from one RandomState(42)
        rs = np.random.RandomState(42)
        labels = np.arange(1200) % 10
        want = np.concatenate([rs.choice(np.nonzero(labels == k)[0], 100, replace=False) for k in range(10)])
        rs.shuffle(want)
        assert splits.train.y.bincount().tolist() == [100] * 10
    else:
        want = np.random.RandomState(42).choice(1200, n, replace=False)
    assert _ids(splits.train.x) == want.tolist()
    assert splits.train.y.tolist() == [i % 10 for i in want.tolist()]
    readme = load_dataset(name, root=tmp_path, download=False)
    assert len(readme.train) != n or _ids(readme.train.x) != want.tolist()


def test_subset_sampling_is_ignored_by_full_datasets_and_checked(tmp_path, fake):
    fake.cifar10_folder(tmp_path)
    full = load_dataset("cifar10", root=tmp_path, download=False, subset_sampling="seed")
    assert len(full.train) == 600
    with pytest.raises(ValueError, match="subset_sampling"):
        load_dataset("cifar10", root=tmp_path, download=False, subset_sampling="balanced")
