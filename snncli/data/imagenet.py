"""ImageNet-1k and ImageNet-100 from ``train/`` and ``val/`` class-folder trees.

ImageNet cannot be downloaded without registration, so these datasets are only
ever found on disk. The ILSVRC2012 validation images ship in one flat folder;
they must be sorted into one sub-folder per class (wnid) like ``train/``.
"""

from __future__ import annotations

from pathlib import Path

from snncli.data._registry import register_dataset
from snncli.data.dataset import DataSplits
from snncli.data.errors import CorruptDatasetError
from snncli.data.folder import FolderImageSet
from snncli.data.locations import SYSTEM_ROOT, FileSpec

IMAGE_SIZE = {"imagenet1k": 224, "imagenet100": 64}
"""Side of the square crop per dataset. 224 is the ImageNet standard; ImageNet-100 is
cut to 64 so that spiking networks run over T steps stay tractable."""

_LAYOUT = "{cache}/train/<class>/*.JPEG and {cache}/val/<class>/*.JPEG"

IMAGENET1K_FILES = FileSpec(
    key="imagenet1k",
    folders=("", "imagenet1k", "imagenet-1k", "imagenet", "ImageNet", "ILSVRC2012"),
    files=(("train",), ("val",)),
    system=(SYSTEM_ROOT / "imagenet1k", SYSTEM_ROOT / "imagenet"),
    hint="download ILSVRC2012 from https://image-net.org (registration required) and arrange it as " + _LAYOUT,
)

IMAGENET100_FILES = FileSpec(
    key="imagenet100",
    folders=("", "imagenet100", "imagenet-100", "ImageNet100"),
    files=(("train",), ("val",)),
    system=(SYSTEM_ROOT / "imagenet100",),
    hint="build the 100-class subset of ILSVRC2012 (https://image-net.org) and arrange it as " + _LAYOUT,
)


def _folder_splits(folder: Path, name: str) -> DataSplits:
    size = IMAGE_SIZE[name]
    train = FolderImageSet(folder / "train", name, size)
    test = FolderImageSet(folder / "val", name, size)
    if test.classes != train.classes:
        raise CorruptDatasetError(
            f"{folder / 'val'}: class folders differ from {folder / 'train'} "
            f"({test.num_classes} vs {train.num_classes}); labels would not match",
            path=folder / "val",
        )
    return DataSplits(train=train, test=test, source=str(folder))


@register_dataset("imagenet1k", files=IMAGENET1K_FILES)
def imagenet1k(folder: Path | None) -> DataSplits:
    """ImageNet-1k (ILSVRC2012) from class folders, 1000 classes, 224x224 centre crops, streamed."""
    assert folder is not None
    return _folder_splits(folder, "imagenet1k")


@register_dataset("imagenet100", files=IMAGENET100_FILES)
def imagenet100(folder: Path | None) -> DataSplits:
    """ImageNet-100 from class folders, 100 classes, 64x64 centre crops, streamed."""
    assert folder is not None
    return _folder_splits(folder, "imagenet100")
