"""Fixtures for the data tests: isolated search locations and writers of real-format files."""

from __future__ import annotations

import dataclasses
import gzip
import pickle
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from snncli.data import _registry, cifar, mnist


@pytest.fixture(autouse=True)
def isolated_locations(request, tmp_path_factory, monkeypatch):
    """Points every search location at empty temporary folders and disables real mirrors.

    Tests marked ``slow`` (real data) keep the system copies so they can find them.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("SNN_DATA", raising=False)
    unreachable = (home / "no-mirror").as_uri() + "/"
    monkeypatch.setattr(mnist, "MIRRORS", {k: (unreachable,) for k in mnist.MIRRORS})
    monkeypatch.setattr(cifar, "URLS", {k: (unreachable + "archive.tar.gz",) for k in cifar.URLS})
    if request.node.get_closest_marker("slow") is None:
        system = tmp_path_factory.mktemp("system")
        registry = _registry.DATASETS.copy()
        for name, entry in registry.items():
            if entry.files is not None:
                files = dataclasses.replace(entry.files, system=(system / entry.files.key,))
                registry.replace(name, dataclasses.replace(entry, files=files))
        monkeypatch.setattr(_registry, "DATASETS", registry)
    return home


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Writes an unsigned-byte IDX file (big-endian header), gzip'd if asked."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def mnist_like(n: int, seed: int, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Random images [n, 28, 28] and labels [n] cycling through every class."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = (np.arange(n) % num_classes).astype(np.uint8)
    return x, y


def write_mnist_folder(folder: Path, n_train: int = 30, n_test: int = 20, compress: bool = True, seed: int = 0):
    """Writes the four MNIST-format files; returns the arrays written."""
    suffix = ".gz" if compress else ""
    arrays = {}
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        x, y = mnist_like(n, seed + (split == "test"))
        write_idx(folder / f"{stem}-images-idx3-ubyte{suffix}", x, compress)
        write_idx(folder / f"{stem}-labels-idx1-ubyte{suffix}", y, compress)
        arrays[split] = (x, y)
    return arrays


def cifar_images(ids: np.ndarray) -> np.ndarray:
    """Rows of [N, 3072] whose first two bytes encode each image's id and whose colour planes differ."""
    data = np.zeros((len(ids), 3072), dtype=np.uint8)
    data[:, 0] = ids % 256
    data[:, 1] = ids // 256
    data[:, 1024] = 7  # first pixel of the green plane
    data[:, 2048 + 1023] = 9  # last pixel of the blue plane
    return data


def _dump(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def write_cifar10_folder(folder: Path, per_batch: int = 120, n_test: int = 600, meta: bool = True):
    """Writes data_batch_1..5, test_batch and batches.meta; image ids run 0.. across the train batches."""
    labels_all = np.arange(5 * per_batch) % 10
    for b in range(5):
        ids = np.arange(b * per_batch, (b + 1) * per_batch)
        _dump(folder / f"data_batch_{b + 1}", {b"batch_label": b"training", b"data": cifar_images(ids),
                                               b"labels": labels_all[ids].tolist()})  # fmt: skip
    test_ids = np.arange(n_test)
    _dump(folder / "test_batch", {b"data": cifar_images(test_ids), b"labels": ((test_ids * 3) % 10).tolist()})
    if meta:
        names = [f"name{k}".encode() for k in range(10)]
        _dump(folder / "batches.meta", {b"label_names": names, b"num_cases_per_batch": per_batch})
    return folder


def write_cifar100_folder(folder: Path, n_train: int = 200, n_test: int = 100):
    for split, n in (("train", n_train), ("test", n_test)):
        ids = np.arange(n)
        _dump(folder / split, {b"data": cifar_images(ids), b"fine_labels": (ids % 100).tolist(),
                               b"coarse_labels": (ids % 20).tolist()})  # fmt: skip
    _dump(folder / "meta", {b"fine_label_names": [f"fine{k}".encode() for k in range(100)],
                            b"coarse_label_names": [f"coarse{k}".encode() for k in range(20)]})  # fmt: skip
    return folder


def write_image_tree(folder: Path, classes=("n01", "n02", "n03"), per_class: int = 2):
    for split in ("train", "val"):
        for c in classes:
            d = folder / split / c
            d.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                (d / f"{c}_{i}.JPEG").write_bytes(b"not decoded in these tests")
    return folder


@pytest.fixture
def fake() -> SimpleNamespace:
    """The file writers, so tests can build data folders in ``tmp_path``."""
    return SimpleNamespace(
        write_idx=write_idx,
        mnist_like=mnist_like,
        cifar_images=cifar_images,
        mnist_folder=write_mnist_folder,
        cifar10_folder=write_cifar10_folder,
        cifar100_folder=write_cifar100_folder,
        image_tree=write_image_tree,
        dump=_dump,
    )


@pytest.fixture
def full_root(tmp_path: Path) -> Path:
    """A data root holding every file-based dataset under its usual sub-folder name."""
    root = tmp_path / "root"
    write_mnist_folder(root / "fashion-mnist", seed=10)
    write_mnist_folder(root / "MNIST" / "raw", compress=False, seed=20)
    write_cifar10_folder(root / "cifar-10-batches-py")
    write_cifar100_folder(root / "cifar-100-python")
    write_image_tree(root / "imagenet100")
    write_image_tree(root / "imagenet1k")
    return root
