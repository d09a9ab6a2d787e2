"""IDX reader and the MNIST-family datasets."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from snncli.data import CorruptDatasetError, load_dataset
from snncli.data.mnist import FASHION_CLASSES, read_idx, read_idx_split


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_returns_stored_values(tmp_path, fake, compress):
    x, _ = fake.mnist_like(5, seed=1)
    path = fake.write_idx(tmp_path / "images", x, compress)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (5, 28, 28)
    np.testing.assert_array_equal(out, x)


def test_read_idx_split_shapes_and_labels(tmp_path, fake):
    x, y = fake.mnist_like(12, seed=2)
    images = fake.write_idx(tmp_path / "i", x)
    labels = fake.write_idx(tmp_path / "l", y)
    xt, yt = read_idx_split(images, labels)
    assert xt.shape == (12, 1, 28, 28) and xt.dtype == torch.uint8
    assert yt.dtype == torch.int64
    assert torch.equal(xt[:, 0], torch.from_numpy(x))
    assert yt.tolist() == y.tolist()


def test_bad_magic_names_the_file(tmp_path, fake):
    path = fake.write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)))
    raw = bytearray(path.read_bytes())
    raw[0] = 0x12
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptDatasetError, match="train-images-idx3-ubyte.*magic"):
        read_idx(path)


def test_wrong_type_code_is_rejected(tmp_path, fake):
    path = fake.write_idx(tmp_path / "f", np.zeros((2, 3)))
    raw = bytearray(path.read_bytes())
    raw[2] = 0x0D  # float32
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptDatasetError, match="type code"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_file_is_rejected(tmp_path, fake, compress):
    path = fake.write_idx(tmp_path / "t10k-images-idx3-ubyte", np.ones((3, 28, 28)))
    raw = path.read_bytes()[:-100]
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(CorruptDatasetError, match=r"t10k-images-idx3-ubyte.*truncated"):
        read_idx(path)


def test_damaged_gzip_is_rejected(tmp_path, fake):
    path = fake.write_idx(tmp_path / "x.gz", np.ones((3, 28, 28)), compress=True)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(CorruptDatasetError, match="x.gz.*gzip"):
        read_idx(path)


def test_label_count_mismatch_is_rejected(tmp_path, fake):
    x, y = fake.mnist_like(6, seed=3)
    images = fake.write_idx(tmp_path / "i", x)
    labels = fake.write_idx(tmp_path / "l", y[:5])
    with pytest.raises(CorruptDatasetError, match="5 labels for 6 images"):
        read_idx_split(images, labels)


def test_label_out_of_range_is_rejected(tmp_path, fake):
    x, _ = fake.mnist_like(2, seed=3)
    images = fake.write_idx(tmp_path / "i", x)
    labels = fake.write_idx(tmp_path / "l", np.array([1, 10]))
    with pytest.raises(CorruptDatasetError, match="label 10"):
        read_idx_split(images, labels)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("name", ["fashionmnist", "mnist"])
def test_load_from_root(tmp_path, fake, name, compress):
    written = fake.mnist_folder(tmp_path, n_train=30, n_test=20, compress=compress)
    splits = load_dataset(name, root=tmp_path, download=False)
    assert splits.source == str(tmp_path)
    assert (len(splits.train), len(splits.test)) == (30, 20)
    assert splits.train.shape == (1, 28, 28) and splits.train.num_classes == 10
    assert torch.equal(splits.train.x[:, 0], torch.from_numpy(written["train"][0]))
    assert splits.test.y.tolist() == written["test"][1].tolist()
    assert splits.train.name == name
    if name == "fashionmnist":
        assert splits.train.classes == FASHION_CLASSES


def test_dotted_file_names_are_accepted(tmp_path, fake):
    written = fake.mnist_folder(tmp_path, compress=False)
    for f in tmp_path.iterdir():
        f.rename(tmp_path / f.name.replace("-idx", ".idx"))
    splits = load_dataset("mnist", root=tmp_path, download=False)
    assert splits.test.y.tolist() == written["test"][1].tolist()


def test_corrupt_file_in_dataset_is_reported(tmp_path, fake):
    fake.mnist_folder(tmp_path, compress=False)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    with pytest.raises(CorruptDatasetError, match="train-labels-idx1-ubyte"):
        load_dataset("mnist", root=tmp_path, download=False)
