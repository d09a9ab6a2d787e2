"""The dataset registry: one decorated loader function per dataset.

``load_dataset(name)`` and ``list_datasets()`` are the only way in, so a dataset is
usable from the CLI and covered by the registry-wide tests the moment its module
registers it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from snncli.data.dataset import DataSplits
from snncli.data.errors import DataRootError, UnknownDatasetError
from snncli.data.locations import FileSpec, candidate_folders, locate
from snncli.registry import Registry

DEFAULT_DATASET = "fashionmnist"

Loader = Callable[[Path | None], DataSplits]
"""Builds the splits from the folder holding the files (``None`` for generated data)."""


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset.

    Attributes:
        name: Registry key, as typed on the command line.
        loader: Builds the splits from the located folder.
        files: What to look for on disk, or ``None`` for generated datasets.
    """

    name: str
    loader: Loader
    files: FileSpec | None

    @property
    def summary(self) -> str:
        """First line of the loader's docstring."""
        doc = (self.loader.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


#: Every dataset, by name; metadata ``family`` (``"cifar"``: 32x32 colour) and ``defaults`` (settings the
#: dataset implies, e.g. ``augment="crop-flip"``; see :mod:`snncli.config.defaults`).
DATASETS: Registry[DatasetEntry] = Registry("dataset", error=UnknownDatasetError)


def register_dataset(
    name: str, *, files: FileSpec | None = None, family: str | None = None, defaults: dict | None = None,
) -> Callable[[Loader], Loader]:
    """Registers a loader under ``name``.

    Args:
        name: Dataset name; lowercase with dashes by convention.
        files: Where its files are looked for; datasets sharing files (a subset and its
            parent) share one spec. ``None`` for generated datasets.
        family: What kind of images (``"cifar"``: 32x32 colour, what a ResNet-32 backbone reads).
        defaults: Training settings the dataset implies unless given (``augment``).

    Returns:
        A decorator that registers the function and returns it unchanged.

    Example:
        >>> @register_dataset("tiny", files=TINY_FILES)
        ... def tiny(folder):
        ...     \"\"\"Ten tiny images.\"\"\"
        ...     return DataSplits(train=..., test=..., source=str(folder))
    """

    def decorate(loader: Loader) -> Loader:
        DATASETS.add(name, DatasetEntry(name=name, loader=loader, files=files), family=family, defaults=defaults or {})
        return loader

    return decorate


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted."""
    return DATASETS.names()


def get_dataset_entry(name: str) -> DatasetEntry:
    """The registry entry for ``name``.

    Raises:
        UnknownDatasetError: ``name`` is not registered; the message lists the allowed names.
    """
    return DATASETS[name]


def has_subset_sampling(name: str) -> bool:
    """Whether ``name`` is a subset drawn differently by ``subset_sampling="seed"`` (its loader takes ``sampling``)."""
    return "sampling" in inspect.signature(get_dataset_entry(name).loader).parameters


def search_paths(name: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders looked in for ``name``, in search order (empty for generated datasets).

    Raises:
        UnknownDatasetError: ``name`` is not registered.
    """
    entry = get_dataset_entry(name)
    if entry.files is None:
        return []
    return [folder for folder, _ in candidate_folders(entry.files, root)]


def _check_root(root: str | os.PathLike[str]) -> Path:
    path = Path(root).expanduser()
    if not path.exists():
        raise DataRootError(f"data root {path} does not exist", places=(path,))
    if not path.is_dir():
        raise DataRootError(f"data root {path} is not a folder", places=(path,))
    return path


def load_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    *,
    on_download: Callable[[str], None] | None = None,
    subset_sampling: str = "readme",
) -> DataSplits:
    """Loads a registered dataset, finding (or downloading) its files first.

    Args:
        name: One of :func:`list_datasets`.
        root: Folder searched before ``$SNN_DATA``, the user cache and system copies.
        download: Whether to try public mirrors when no local copy is found.
        on_download: Called with a one-line message before a download starts.
        subset_sampling: How subsets are drawn: ``"readme"`` (the sizes the PlasticFlex README
            lists, balanced per class) or ``"seed"`` (what its code draws); datasets that are not
            subsets have one way and ignore it.

    Returns:
        The train and test splits, and the folder they were read from.

    Raises:
        UnknownDatasetError: ``name`` is not registered.
        DataRootError: ``root`` is given but is not an existing folder.
        DatasetNotFoundError: The files are nowhere; the message lists every place looked
            and how to get the data.
        CorruptDatasetError: A file was found but is damaged; the message names it.
    """
    entry = get_dataset_entry(name)
    if subset_sampling not in ("readme", "seed"):
        raise ValueError(f"subset_sampling must be 'readme' or 'seed', got {subset_sampling!r}")
    if root is not None:
        root = _check_root(root)
    if entry.files is None:
        return entry.loader(None)
    folder = locate(name, entry.files, root, download, on_download)
    if subset_sampling != "readme" and "sampling" in inspect.signature(entry.loader).parameters:
        return entry.loader(folder, sampling=subset_sampling)
    return entry.loader(folder)
