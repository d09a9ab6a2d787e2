"""Datasets, batches and spike encoders.

Datasets are registered by name (``list_datasets()``) and loaded with
``load_dataset(name, root)``, which looks for the files in the data root,
``$SNN_DATA``, the user cache and system copies, in that order (see
``docs/data.md``). Small datasets load whole into memory as :class:`ImageSet`;
ImageNet-style folders are streamed as :class:`FolderImageSet`.
"""

# Importing the family modules registers their datasets.
from snncli.data import cifar, imagenet, mnist, synthetic  # noqa: F401  isort: skip
from snncli.data._registry import (
    DATASETS,
    DEFAULT_DATASET,
    DatasetEntry,
    get_dataset_entry,
    has_subset_sampling,
    list_datasets,
    load_dataset,
    register_dataset,
    search_paths,
)
from snncli.data.batching import iterate_batches
from snncli.data.dataset import DataSplits, ImageSet
from snncli.data.encoding import ENCODERS, ENCODINGS, Encoding, encode
from snncli.data.errors import (
    CorruptDatasetError,
    DataRootError,
    DatasetNotFoundError,
    UnknownDatasetError,
)
from snncli.data.folder import FolderImageSet
from snncli.data.normalization import SEED_STATS, broadcast_stats, normalization_stats
from snncli.data.locations import FileSpec, cache_dir
from snncli.data.normalization import MNIST_MEAN_STD, NORMALIZATIONS, MeanStd, pixel_mean_std, resolve_normalization
from snncli.data.splits import contiguous_kfold, stratified_kfold, train_val_split

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "ENCODERS",
    "ENCODINGS",
    "Encoding",
    "MNIST_MEAN_STD",
    "NORMALIZATIONS",
    "CorruptDatasetError",
    "DataRootError",
    "DataSplits",
    "DatasetEntry",
    "DatasetNotFoundError",
    "FileSpec",
    "FolderImageSet",
    "SEED_STATS",
    "broadcast_stats",
    "normalization_stats",
    "ImageSet",
    "MeanStd",
    "UnknownDatasetError",
    "cache_dir",
    "encode",
    "get_dataset_entry",
    "has_subset_sampling",
    "iterate_batches",
    "list_datasets",
    "load_dataset",
    "pixel_mean_std",
    "register_dataset",
    "resolve_normalization",
    "search_paths",
    "contiguous_kfold",
    "stratified_kfold",
    "train_val_split",
]
