"""Image datasets streamed from class-per-folder trees (ImageNet layout).

ImageNet does not fit in memory as one tensor, so these splits decode images on
the fly with torchvision's ``ImageFolder`` and a ``DataLoader``. torchvision is
imported only when such a split is built: it is an optional dependency, and an
import that does not match the installed torch fails.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from snncli.data.errors import CorruptDatasetError


def import_torchvision():  # noqa: ANN201 - returns two modules
    """Imports torchvision's ``datasets`` and ``transforms``.

    Raises:
        ImportError: torchvision is absent or broken; the message says how to install it.
    """
    try:
        from torchvision import datasets, transforms
    except Exception as exc:  # a torchvision built for another torch fails with RuntimeError or OSError too
        raise ImportError(
            "ImageNet-style folder datasets need torchvision, which could not be imported "
            f"({type(exc).__name__}: {exc}); install a build matching torch {torch.__version__}: "
            "pip install torchvision  (or: pip install 'snncli[vision]')"
        ) from exc
    return datasets, transforms


class FolderImageSet:
    """A split stored as ``<folder>/<class>/<image>``, decoded lazily.

    Images are resized so the short side is ``image_size * 256 / 224``, centre-cropped
    to ``image_size`` and scaled to ``[0, 1]``; no augmentation and no normalisation,
    so every split is deterministic and the model owns its input statistics.

    Attributes:
        classes: Class folder names, sorted; ``classes[k]`` names label ``k``.
        name: The registered dataset name.
        folder: The split's folder.
        image_size: Side of the square crop, in pixels.
        num_workers: Decoding processes used by :meth:`batches_in_order`.

    Shape:
        - one image: ``(3, image_size, image_size)``
    """

    def __init__(self, folder: str | Path, name: str, image_size: int, *, num_workers: int | None = None) -> None:
        datasets, transforms = import_torchvision()
        self.folder = Path(folder)
        self.name = name
        self.image_size = int(image_size)
        self.num_workers = min(8, os.cpu_count() or 1) if num_workers is None else int(num_workers)
        transform = transforms.Compose(
            [
                transforms.Resize(round(self.image_size * 256 / 224)),
                transforms.CenterCrop(self.image_size),
                transforms.ToTensor(),
            ]
        )
        try:
            self._images = datasets.ImageFolder(str(self.folder), transform=transform)
        except (FileNotFoundError, RuntimeError) as exc:
            raise CorruptDatasetError(
                f"{self.folder}: expected one sub-folder of images per class ({exc})", path=self.folder
            ) from exc
        self.classes: list[str] = list(self._images.classes)
        self._targets = torch.as_tensor(self._images.targets, dtype=torch.int64)
        self._indices: torch.Tensor | None = None

    def _all_indices(self) -> torch.Tensor:
        return torch.arange(len(self._targets)) if self._indices is None else self._indices

    def __len__(self) -> int:
        return len(self._targets) if self._indices is None else len(self._indices)

    @property
    def shape(self) -> tuple[int, int, int]:
        return 3, self.image_size, self.image_size

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def y(self) -> torch.Tensor:
        """Labels ``[N]``, read from the folder names without decoding any image."""
        return self._targets[self._all_indices()]

    def to(self, device: torch.device | str) -> FolderImageSet:
        """Returns ``self``: images stay on disk and each batch is moved when it is made."""
        return self

    def subset(self, idx: torch.Tensor) -> FolderImageSet:
        """The samples at ``idx`` (positions within this split), sharing the folder scan."""
        part = copy.copy(self)
        part._indices = self._all_indices()[idx.cpu()]
        return part

    def batches_in_order(
        self, order: torch.Tensor, batch_size: int, *, device: torch.device | str | None = None, drop_last: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Decodes the samples at positions ``order`` in batches.

        Yields:
            ``(x, y)``: ``float32`` images ``[B, 3, S, S]`` in ``[0, 1]`` and ``int64`` labels ``[B]``.
        """
        from torch.utils.data import DataLoader

        device = torch.device(device) if device is not None else torch.device("cpu")
        loader = DataLoader(
            self._images,
            batch_size=batch_size,
            sampler=self._all_indices()[order.cpu()].tolist(),
            num_workers=self.num_workers,
            drop_last=drop_last,
            pin_memory=device.type == "cuda",
        )
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)
