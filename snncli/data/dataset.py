"""In-memory dataset containers.

Small image datasets (MNIST, CIFAR) fit in memory many times over, so a split is
held as two tensors and batches are cut by indexing them; this avoids the
per-sample Python of ``torch.utils.data.Dataset`` and lets a whole split live on
the training device.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from snncli.data.folder import FolderImageSet


@dataclass
class ImageSet:
    """One split of an image classification dataset, held whole in memory.

    Attributes:
        x: Images. ``uint8`` in ``[0, 255]``, or ``float32`` in ``[0, 1]`` for datasets
            that were altered after loading (e.g. Gaussian noise).
        y: Class labels, ``int64`` in ``[0, num_classes)``.
        classes: Human-readable class names; ``classes[k]`` names label ``k``.
        name: The registered dataset name this split came from.

    Shape:
        - x: ``[N, C, H, W]``
        - y: ``[N]``
    """

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    name: str

    def __post_init__(self) -> None:
        if self.x.ndim != 4:
            raise ValueError(f"{self.name}: images must be [N, C, H, W], got shape {tuple(self.x.shape)}")
        if self.y.ndim != 1 or self.y.shape[0] != self.x.shape[0]:
            raise ValueError(
                f"{self.name}: labels must be [N] with N={self.x.shape[0]}, got shape {tuple(self.y.shape)}"
            )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(C, H, W)``."""
        c, h, w = self.x.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device: torch.device | str) -> ImageSet:
        """Returns a copy whose tensors live on ``device`` (``self`` if they already do)."""
        device = torch.device(device)
        if self.x.device == device and self.y.device == device:
            return self
        return dataclasses.replace(self, x=self.x.to(device), y=self.y.to(device))

    def subset(self, idx: torch.Tensor) -> ImageSet:
        """Returns the samples at ``idx`` (an index or boolean mask tensor), in that order."""
        idx = idx.to(self.x.device)
        return dataclasses.replace(self, x=self.x[idx], y=self.y[idx], classes=list(self.classes))


@dataclass
class DataSplits:
    """The train and test splits of a dataset.

    Attributes:
        train: Training split (a :class:`~snncli.data.folder.FolderImageSet` for
            ImageNet-style folders, which are streamed from disk).
        test: Held-out split (the official test set, or the subset's validation images).
        source: The folder the files were read from, or ``"generated"``.
    """

    train: ImageSet | FolderImageSet
    test: ImageSet | FolderImageSet
    source: str
