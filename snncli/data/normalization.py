"""Per-channel input statistics: the PlasticFlex seed's normalisation constants, and others measured.

``snn`` feeds images in pixel units ``[0, 1]``; a model asked to normalise them (the seed's
``transforms.Normalize``) does so in its first operation with these values, so attack budgets
stay in pixel units. The seed normalised CIFAR-10 with ``mean (0.4914, 0.4822, 0.4465)``,
``std (0.2023, 0.1994, 0.2010)`` (a widely copied table; the true per-channel standard
deviations of CIFAR-10 are about 0.247, 0.243, 0.261), MNIST with ``0.1307 / 0.3081`` and its
ImageNet subsets with the ImageNet constants. Datasets the seed never used get their training
set's measured statistics.
"""

from __future__ import annotations

import torch

Stats = tuple[tuple[float, ...], tuple[float, ...]]

#: The seed's constants (``dataset_cifar10.py``, ``dataset_mnist.py``, ``dataset_imagenet.py``).
SEED_STATS: dict[str, Stats] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "mnist": ((0.1307,), (0.3081,)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


def seed_family(name: str) -> str | None:
    """The seed dataset whose constants ``name`` uses (CIFAR-10 subsets use CIFAR-10's), or ``None``."""
    if name.startswith("cifar10") and not name.startswith("cifar100"):
        return "cifar10"
    if name == "mnist":
        return "mnist"
    if name.startswith("imagenet"):
        return "imagenet"
    return None


def measured_stats(x: torch.Tensor, chunk: int = 4096) -> Stats:
    """Per-channel mean and standard deviation of images ``[N, C, H, W]`` (uint8 0..255 or float 0..1), in pixel units."""
    if x.ndim != 4:
        raise ValueError(f"images must be [N, C, H, W], got shape {tuple(x.shape)}")
    scale = 255.0 if not x.is_floating_point() else 1.0
    total = torch.zeros(x.shape[1], dtype=torch.float64)
    square = torch.zeros_like(total)
    count = 0
    for i in range(0, len(x), chunk):
        part = x[i : i + chunk].to(torch.float64) / scale
        total += part.sum((0, 2, 3))
        square += (part**2).sum((0, 2, 3))
        count += part.shape[0] * part.shape[2] * part.shape[3]
    mean = total / count
    std = (square / count - mean**2).clamp(min=0).sqrt()
    return tuple(round(v, 4) for v in mean.tolist()), tuple(round(max(v, 1e-4), 4) for v in std.tolist())


def normalization_stats(name: str, train_images: torch.Tensor | None = None) -> Stats:
    """The ``(mean, std)`` a model normalises ``name``'s images with: the seed's constants where it
    had them, else measured on ``train_images``.

    Raises:
        ValueError: no seed constants for ``name`` and no images to measure.
    """
    family = seed_family(name)
    if family is not None:
        return SEED_STATS[family]
    if train_images is None:
        raise ValueError(f"no normalisation constants for {name!r}: pass its training images to measure them")
    return measured_stats(train_images)


def broadcast_stats(stats: Stats, channels: int) -> Stats:
    """``stats`` for ``channels`` channels: one value repeated (grey images fed as RGB), or as given.

    Raises:
        ValueError: a count that is neither 1 nor ``channels``.
    """
    mean, std = stats
    if len(mean) == channels:
        return stats
    if len(mean) == 1:
        return tuple(mean) * channels, tuple(std) * channels
    raise ValueError(f"normalisation constants for {len(mean)} channels do not fit {channels}-channel images")

