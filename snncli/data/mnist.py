"""MNIST and Fashion-MNIST, read straight from their IDX files.

IDX layout (big-endian): two zero bytes, a type code (``0x08`` = unsigned byte),
the number of dimensions ``d``, then ``d`` 32-bit sizes, then the data. Images are
``[N, 28, 28]`` (magic ``0x00000803``), labels ``[N]`` (magic ``0x00000801``).
Files may be gzip-compressed; that is detected from the content, not the name.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from snncli.data._registry import register_dataset
from snncli.data.dataset import DataSplits, ImageSet
from snncli.data.download import download_any
from snncli.data.errors import CorruptDatasetError
from snncli.data.locations import SYSTEM_ROOT, FileSpec

_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip
MNIST_CLASSES = [str(d) for d in range(10)]

_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MIRRORS: dict[str, tuple[str, ...]] = {
    "fashionmnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
}
"""Base URLs tried in order; each serves the four ``.gz`` files."""

MD5: dict[str, dict[str, str]] = {
    "fashionmnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
}
"""Checksums of the upstream ``.gz`` files (distribution packages may recompress theirs)."""


def _accepted_names(stem: str) -> tuple[str, ...]:
    # The original archive unpacks to "train-images-idx3-ubyte"; some tools write
    # "train-images.idx3-ubyte" instead.
    dotted = stem.replace("-idx", ".idx")
    return (stem, stem + ".gz", dotted, dotted + ".gz")


def read_idx(path: str | Path) -> np.ndarray:
    """Reads an unsigned-byte IDX file, gzip-compressed or not.

    Args:
        path: The file.

    Returns:
        The array, ``uint8``, with the shape stored in the header.

    Raises:
        CorruptDatasetError: Bad magic number, unsupported type, or a size that does not
            match the header (truncated or padded file). The message names the file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptDatasetError(f"{path}: damaged gzip stream ({exc})", path=path) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CorruptDatasetError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})", path=path)
    if raw[2] != _UBYTE:
        raise CorruptDatasetError(f"{path}: IDX type code 0x{raw[2]:02x} is not unsigned byte (0x08)", path=path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise CorruptDatasetError(f"{path}: truncated IDX header", path=path)
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = math.prod(dims)
    if len(raw) - header != expected:
        raise CorruptDatasetError(
            f"{path}: header promises {expected} bytes of data for shape {dims}, file holds {len(raw) - header}"
            + (" (truncated)" if len(raw) - header < expected else ""),
            path=path,
        )
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(dims).copy()


def read_idx_split(images: str | Path, labels: str | Path, num_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Reads a matching pair of IDX image and label files.

    Returns:
        ``(x, y)``: ``uint8`` images ``[N, 1, H, W]`` and ``int64`` labels ``[N]``.

    Raises:
        CorruptDatasetError: Wrong dimensionality, mismatched counts, or labels out of range.
    """
    images, labels = Path(images), Path(labels)
    x = read_idx(images)
    y = read_idx(labels)
    if x.ndim != 3:
        raise CorruptDatasetError(f"{images}: expected images [N, H, W], header says {x.shape}", path=images)
    if y.ndim != 1:
        raise CorruptDatasetError(f"{labels}: expected labels [N], header says {y.shape}", path=labels)
    if len(x) != len(y):
        raise CorruptDatasetError(f"{labels}: {len(y)} labels for {len(x)} images in {images.name}", path=labels)
    if len(y) and int(y.max()) >= num_classes:
        raise CorruptDatasetError(f"{labels}: label {int(y.max())} outside 0..{num_classes - 1}", path=labels)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def _load(folder: Path, spec: FileSpec, name: str, classes: list[str]) -> DataSplits:
    paths = spec.resolve(folder)
    if paths is None:  # located a moment ago; only a concurrent delete gets here
        raise FileNotFoundError(f"{folder}: {name} files disappeared")
    train_x, train_y = read_idx_split(paths[0], paths[1], len(classes))
    test_x, test_y = read_idx_split(paths[2], paths[3], len(classes))
    return DataSplits(
        train=ImageSet(train_x, train_y, list(classes), name),
        test=ImageSet(test_x, test_y, list(classes), name),
        source=str(folder),
    )


def _fetcher(key: str):
    def fetch(target: Path) -> None:
        for stems in _STEMS.values():
            for stem in stems:
                file = stem + ".gz"
                if not (target / file).exists():
                    download_any([base + file for base in MIRRORS[key]], target / file, md5=MD5[key].get(file))

    return fetch


def _idx_spec(key: str, folders: tuple[str, ...], system: tuple[Path, ...], hint: str) -> FileSpec:
    files = tuple(_accepted_names(stem) for split in ("train", "test") for stem in _STEMS[split])
    return FileSpec(key=key, folders=folders, files=files, system=system, hint=hint, fetch=_fetcher(key))


_IDX_FILE_LIST = ", ".join(stem + ".gz" for split in ("train", "test") for stem in _STEMS[split])

FASHIONMNIST_FILES = _idx_spec(
    "fashionmnist",
    ("", "fashionmnist", "fashion-mnist", "fashion_mnist", "FashionMNIST/raw", "FashionMNIST"),
    (SYSTEM_ROOT / "fashion-mnist",),
    "`apt-get install -y dataset-fashion-mnist` (Debian/Ubuntu, offline), or allow the download, "
    f"or put {_IDX_FILE_LIST} (gzip'd or not) in {{cache}}",
)
MNIST_FILES = _idx_spec(
    "mnist",
    ("", "mnist", "MNIST/raw", "MNIST"),
    (SYSTEM_ROOT / "mnist",),
    f"allow the download, or put {_IDX_FILE_LIST} (gzip'd or not) in {{cache}}",
)


@register_dataset("fashionmnist", files=FASHIONMNIST_FILES)
def fashionmnist(folder: Path | None) -> DataSplits:
    """Fashion-MNIST: 28x28 grey clothing images, 10 classes, 60000 train / 10000 test."""
    assert folder is not None
    return _load(folder, FASHIONMNIST_FILES, "fashionmnist", FASHION_CLASSES)


@register_dataset("mnist", files=MNIST_FILES)
def mnist(folder: Path | None) -> DataSplits:
    """MNIST: 28x28 grey handwritten digits, 10 classes, 60000 train / 10000 test."""
    assert folder is not None
    return _load(folder, MNIST_FILES, "mnist", MNIST_CLASSES)
