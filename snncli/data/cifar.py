"""CIFAR-10, CIFAR-100 and the small CIFAR-10 subsets, read from the "python version" batches.

Each batch file is a pickled dict (written by Python 2, hence ``encoding="bytes"``)
with ``b"data"``, a ``uint8`` array ``[N, 3072]`` holding the red, green and blue
32x32 planes of each image row-major, and the labels (``b"labels"`` for CIFAR-10,
``b"fine_labels"`` for CIFAR-100). The unpickler only accepts the handful of
globals these files use, so a tampered file fails instead of running code.

Subsets are drawn with a fixed seed and per class, so they are identical on every
machine and balanced.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from snncli.data._registry import register_dataset
from snncli.data.dataset import DataSplits, ImageSet
from snncli.data.download import download_any, extract_members
from snncli.data.errors import CorruptDatasetError
from snncli.data.locations import SYSTEM_ROOT, FileSpec

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip

#: Registry metadata of every CIFAR dataset: 32x32 colour images, trained with crop + flip by default.
CIFAR = {"family": "cifar", "defaults": {"augment": "crop-flip"}}
SUBSET_SEED = 0
"""Seed of every random CIFAR-10 subset and of the added noise; changing it changes the datasets."""

NOISE_STD = 0.5

_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
}

URLS: dict[str, tuple[str, ...]] = {
    "cifar10": ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    "cifar100": ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
}
MD5: dict[str, str] = {
    "cifar10": "c58f30108f718f92721af3b95e74349a",
    "cifar100": "eb9058c3a382ffc7106e4002c42a8d85",
}
"""Checksums of the upstream archives."""

_CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR10_DIR = "cifar-10-batches-py"
_CIFAR100_DIR = "cifar-100-python"


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = _BatchUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise CorruptDatasetError(f"{path}: not a CIFAR python batch ({exc})", path=path) from exc
    if not isinstance(obj, dict):
        raise CorruptDatasetError(f"{path}: expected a pickled dict, found {type(obj).__name__}", path=path)
    return obj


def read_cifar_batch(path: str | Path, label_key: bytes = b"labels") -> tuple[np.ndarray, np.ndarray]:
    """Reads one CIFAR python batch.

    Args:
        path: A batch file (``data_batch_1``, ``test_batch``, CIFAR-100 ``train``...).
        label_key: ``b"labels"`` (CIFAR-10) or ``b"fine_labels"`` (CIFAR-100).

    Returns:
        ``(x, y)``: ``uint8`` images ``[N, 3, 32, 32]`` and ``int64`` labels ``[N]``.

    Raises:
        CorruptDatasetError: Not a pickle, unexpected content, or mismatched sizes.
    """
    path = Path(path)
    batch = _unpickle(path)
    data = batch.get(b"data")
    labels = batch.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise CorruptDatasetError(f"{path}: b'data' must be uint8 [N, 3072], found {found}", path=path)
    if labels is None:
        raise CorruptDatasetError(f"{path}: no {label_key!r} entry", path=path)
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (data.shape[0],):
        raise CorruptDatasetError(f"{path}: {y.size} labels for {data.shape[0]} images", path=path)
    if y.size and (y.min() < 0):
        raise CorruptDatasetError(f"{path}: negative label {int(y.min())}", path=path)
    return data.reshape(-1, 3, 32, 32), y


def read_cifar_names(path: str | Path, key: bytes) -> list[str]:
    """Reads the class names stored under ``key`` in a CIFAR meta file."""
    path = Path(path)
    names = _unpickle(path).get(key)
    if not isinstance(names, list) or not names:
        raise CorruptDatasetError(f"{path}: no {key!r} list of class names", path=path)
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _read_split(paths: list[Path], label_key: bytes, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    parts = [read_cifar_batch(p, label_key) for p in paths]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    if y.size and y.max() >= num_classes:
        raise CorruptDatasetError(f"{paths[0].parent}: label {int(y.max())} outside 0..{num_classes - 1}")
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def _archive_fetcher(key: str, archive_dir: str, members: tuple[str, ...]):
    def fetch(target: Path) -> None:
        url = URLS[key][0]
        archive = target / url.rsplit("/", 1)[-1]
        download_any(URLS[key], archive, md5=MD5[key])
        try:
            extract_members(archive, {m: m for m in members}, target / archive_dir)
        finally:
            # The archive duplicates what was just extracted; a failed one is useless.
            archive.unlink(missing_ok=True)

    return fetch


CIFAR10_FILES = FileSpec(
    key="cifar10",
    folders=("", _CIFAR10_DIR, "cifar10", f"cifar10/{_CIFAR10_DIR}", "cifar-10", f"cifar-10/{_CIFAR10_DIR}"),
    files=tuple((n,) for n in (*_CIFAR10_TRAIN, "test_batch")),
    system=(SYSTEM_ROOT / "cifar10", SYSTEM_ROOT / "cifar-10"),
    hint=(
        "allow the download, or unpack cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
        f"so that {{cache}}/{_CIFAR10_DIR}/data_batch_1 exists"
    ),
    fetch=_archive_fetcher("cifar10", _CIFAR10_DIR, (*_CIFAR10_TRAIN, "test_batch", "batches.meta")),
)

CIFAR100_FILES = FileSpec(
    key="cifar100",
    folders=("", _CIFAR100_DIR, "cifar100", f"cifar100/{_CIFAR100_DIR}", "cifar-100", f"cifar-100/{_CIFAR100_DIR}"),
    files=(("train",), ("test",), ("meta",)),
    system=(SYSTEM_ROOT / "cifar100", SYSTEM_ROOT / "cifar-100"),
    hint=(
        "allow the download, or unpack cifar-100-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
        f"so that {{cache}}/{_CIFAR100_DIR}/train exists"
    ),
    fetch=_archive_fetcher("cifar100", _CIFAR100_DIR, ("train", "test", "meta")),
)


def _cifar10_splits(folder: Path, name: str) -> DataSplits:
    meta = folder / "batches.meta"
    # batches.meta only holds the well-known names; tolerate copies that dropped it.
    classes = read_cifar_names(meta, b"label_names") if meta.exists() else list(CIFAR10_CLASSES)
    train_x, train_y = _read_split([folder / n for n in _CIFAR10_TRAIN], b"labels", len(classes))
    test_x, test_y = _read_split([folder / "test_batch"], b"labels", len(classes))
    return DataSplits(
        train=ImageSet(train_x, train_y, classes, name),
        test=ImageSet(test_x, test_y, list(classes), name),
        source=str(folder),
    )


def per_class_indices(y: torch.Tensor, n_per_class: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Picks ``n_per_class`` indices of every class, sorted.

    Args:
        y: Labels ``[N]``.
        n_per_class: How many of each class to keep.
        generator: Draw at random with it; ``None`` keeps the first ones in file order.

    Raises:
        ValueError: A class has fewer than ``n_per_class`` samples.
    """
    picked = []
    for label in torch.unique(y).tolist():
        members = torch.nonzero(y == label).flatten()
        if len(members) < n_per_class:
            raise ValueError(f"class {label} has {len(members)} samples, fewer than {n_per_class}")
        if generator is not None:
            members = members[torch.randperm(len(members), generator=generator)]
        picked.append(members[:n_per_class])
    return torch.cat(picked).sort().values


def _random_subset(folder: Path, name: str, train_per_class: int, test_per_class: int) -> DataSplits:
    full = _cifar10_splits(folder, name)
    g = torch.Generator().manual_seed(SUBSET_SEED)
    train_idx = per_class_indices(full.train.y, train_per_class, g)
    test_idx = per_class_indices(full.test.y, test_per_class, g)
    return DataSplits(train=full.train.subset(train_idx), test=full.test.subset(test_idx), source=full.source)


def add_gaussian_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """Adds ``N(0, std^2)`` noise to ``uint8`` images scaled to ``[0, 1]`` and clips to ``[0, 1]``.

    Returns:
        ``float32`` images of the same shape.
    """
    pixels = x.to(torch.float32) / 255.0
    noise = torch.randn(pixels.shape, generator=generator) * std
    return (pixels + noise).clamp_(0.0, 1.0)


@register_dataset("cifar10", files=CIFAR10_FILES, **CIFAR)
def cifar10(folder: Path | None) -> DataSplits:
    """CIFAR-10: 32x32 colour images, 10 classes, 50000 train / 10000 test."""
    assert folder is not None
    return _cifar10_splits(folder, "cifar10")


@register_dataset("cifar100", files=CIFAR100_FILES, **CIFAR)
def cifar100(folder: Path | None) -> DataSplits:
    """CIFAR-100: 32x32 colour images, 100 fine classes, 50000 train / 10000 test."""
    assert folder is not None
    classes = read_cifar_names(folder / "meta", b"fine_label_names")
    train_x, train_y = _read_split([folder / "train"], b"fine_labels", len(classes))
    test_x, test_y = _read_split([folder / "test"], b"fine_labels", len(classes))
    return DataSplits(
        train=ImageSet(train_x, train_y, classes, "cifar100"),
        test=ImageSet(test_x, test_y, list(classes), "cifar100"),
        source=str(folder),
    )


def seed_random_indices(n_total: int, n: int) -> torch.Tensor:
    """The seed code's ``create_random_subset``: ``numpy.random.seed(42); numpy.random.choice(N, n, replace=False)``
    (any classes, in the drawn order)."""
    import numpy as np

    return torch.from_numpy(np.random.RandomState(42).choice(n_total, min(n, n_total), replace=False).astype(np.int64))


def seed_balanced_indices(y: torch.Tensor, n_per_class: int) -> torch.Tensor:
    """The seed code's ``create_balanced_subset``: seed 42, ``n_per_class`` drawn per class in class order, then shuffled."""
    import numpy as np

    rs = np.random.RandomState(42)
    labels = y.numpy()
    picked: list[int] = []
    for label in range(int(labels.max()) + 1):
        members = np.nonzero(labels == label)[0]
        if len(members) < n_per_class:
            raise ValueError(f"class {label} has {len(members)} samples, fewer than {n_per_class}")
        picked.extend(rs.choice(members, n_per_class, replace=False).tolist())
    order = np.array(picked, dtype=np.int64)
    rs.shuffle(order)
    return torch.from_numpy(order)


def _seed_subset(folder: Path, name: str, balanced: bool, n: int) -> DataSplits:
    """A subset as the seed's code draws it, from both splits alike (``n`` per class if ``balanced``)."""
    full = _cifar10_splits(folder, name)

    def pick(split):
        idx = seed_balanced_indices(split.y, n) if balanced else seed_random_indices(len(split), n)
        return split.subset(idx)

    return DataSplits(train=pick(full.train), test=pick(full.test), source=full.source)



@register_dataset("cifar10-down-50", files=CIFAR10_FILES, **CIFAR)
def cifar10_down_50(folder: Path | None, sampling: str = "readme") -> DataSplits:
    """CIFAR-10 cut down to the first 50 images per class: 500 train / 500 test (seed code: 100 random per class, 1000 / 1000)."""
    assert folder is not None
    if sampling == "seed":
        return _seed_subset(folder, "cifar10-down-50", True, 100)
    full = _cifar10_splits(folder, "cifar10-down-50")
    return DataSplits(
        train=full.train.subset(per_class_indices(full.train.y, 50)),
        test=full.test.subset(per_class_indices(full.test.y, 50)),
        source=full.source,
    )


@register_dataset("cifar10-random-small-100", files=CIFAR10_FILES, **CIFAR)
def cifar10_random_small_100(folder: Path | None, sampling: str = "readme") -> DataSplits:
    """CIFAR-10, 10 random images per class (fixed seed): 100 train / 100 test (seed code: 100 of any class)."""
    assert folder is not None
    if sampling == "seed":
        return _seed_subset(folder, "cifar10-random-small-100", False, 100)
    return _random_subset(folder, "cifar10-random-small-100", 10, 10)


@register_dataset("cifar10-random-small-500", files=CIFAR10_FILES, **CIFAR)
def cifar10_random_small_500(folder: Path | None, sampling: str = "readme") -> DataSplits:
    """CIFAR-10, 50 random images per class (fixed seed): 500 train / 500 test (seed code: 500 of any class)."""
    assert folder is not None
    if sampling == "seed":
        return _seed_subset(folder, "cifar10-random-small-500", False, 500)
    return _random_subset(folder, "cifar10-random-small-500", 50, 50)


@register_dataset("cifar10-random-small-gaussian-noise-0.5", files=CIFAR10_FILES, **CIFAR)
def cifar10_random_small_gaussian_noise(folder: Path | None, sampling: str = "readme") -> DataSplits:
    """cifar10-random-small-500 with fixed Gaussian noise (std 0.5) on both splits: 500 / 500 (seed code: 100 of any
    class, clean here: its noise is drawn anew at every access, which is input-noise augmentation of std 0.5)."""
    assert folder is not None
    name = "cifar10-random-small-gaussian-noise-0.5"
    if sampling == "seed":
        return _seed_subset(folder, name, False, 100)
    small = _random_subset(folder, name, 50, 50)
    # Its own generator, so the noise does not depend on how the subset was drawn.
    g = torch.Generator().manual_seed(SUBSET_SEED + 1)
    train = ImageSet(add_gaussian_noise(small.train.x, NOISE_STD, g), small.train.y, small.train.classes, name)
    test = ImageSet(add_gaussian_noise(small.test.x, NOISE_STD, g), small.test.y, small.test.classes, name)
    return DataSplits(train=train, test=test, source=small.source)
