"""Input normalisation: statistics, and the two ways ``snn`` applies them.

- **As the encoders' affine** ``x * scale + bias`` (``snn plasticity --normalize``): the plasticity
  seed feeds MNIST as ``(x - 0.1307) / 0.3081`` (torchvision's ``Normalize`` with the MNIST training
  set's pixel mean and standard deviation) straight into the first layer as an analog current.
  ``(x - m) / s`` is the encoders' ``x * (1 / s) + (-m / s)``, so a normalisation needs no new code
  path: every consumer of a run's ``enc_scale`` / ``enc_bias`` (training, evaluation, attacks,
  analysis) applies it. :class:`MeanStd`, :func:`pixel_mean_std`, :func:`resolve_normalization`.
- **Per channel inside a conv model** (``snn train --channel-norm``): the PlasticFlex seed's
  ``transforms.Normalize``, done in the model's first operation so attack budgets stay in pixel units.
  The seed normalised CIFAR-10 with ``mean (0.4914, 0.4822, 0.4465)``, ``std (0.2023, 0.1994, 0.2010)``
  (a widely copied table; the true per-channel standard deviations of CIFAR-10 are about 0.247,
  0.243, 0.261), MNIST with ``0.1307 / 0.3081`` and its ImageNet subsets with the ImageNet constants.
  Datasets the seed never used get their training set's measured statistics. :data:`SEED_STATS`,
  :func:`normalization_stats`, :func:`measured_stats`, :func:`broadcast_stats`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch

from .batching import iterate_batches
from .dataset import ImageSet

Normalization = Literal["dataset", "mnist", "none"]
NORMALIZATIONS: tuple[str, ...] = ("dataset", "mnist", "none")

#: torchvision's MNIST constants, as the seed's notebook hard-codes them.
MNIST_MEAN_STD = (0.1307, 0.3081)


class MeanStd(NamedTuple):
    """Pixel mean and standard deviation in ``[0, 1]`` units."""

    mean: float
    std: float

    def affine(self) -> tuple[float, float]:
        """``(scale, bias)`` with ``x * scale + bias == (x - mean) / std``."""
        return 1.0 / self.std, -self.mean / self.std


@torch.no_grad()
def pixel_mean_std(data: ImageSet, digits: int = 4) -> MeanStd:
    """Mean and (population) standard deviation over every pixel and channel of ``data``, in ``[0, 1]``.

    Rounded to ``digits`` decimals, as such constants are quoted: on the MNIST training set this
    gives the seed's 0.1307 and 0.3081; on Fashion-MNIST 0.2860 and 0.3530. Accumulated in float64
    batch by batch, so the result does not depend on the thread count.
    """
    total = torch.zeros((), dtype=torch.float64)
    square = torch.zeros((), dtype=torch.float64)
    n = 0
    for x, _ in iterate_batches(data, 10_000, shuffle=False, device="cpu"):
        x = x.double()
        total += x.sum()
        square += (x * x).sum()
        n += x.numel()
    if n == 0:
        raise ValueError(f"{data.name}: no images to take a mean over")
    mean = total.item() / n
    std = max(square.item() / n - mean * mean, 0.0) ** 0.5
    if std == 0.0:
        raise ValueError(f"{data.name}: every pixel has the same value; nothing to normalise by")
    return MeanStd(round(mean, digits), round(std, digits))


def resolve_normalization(kind: str, train: ImageSet) -> MeanStd | None:
    """The mean/std ``kind`` names: ``dataset`` (``train``'s own), ``mnist`` (the seed's constants), ``none``."""
    if kind == "none":
        return None
    if kind == "mnist":
        return MeanStd(*MNIST_MEAN_STD)
    if kind == "dataset":
        return pixel_mean_std(train)
    raise ValueError(f"unknown normalisation {kind!r}; choose from {', '.join(NORMALIZATIONS)}")


# ------------------------------------------------------------------ per-channel statistics (conv models)

Stats = tuple[tuple[float, ...], tuple[float, ...]]

#: The seed's constants (``dataset_cifar10.py``, ``dataset_mnist.py``, ``dataset_imagenet.py``).
SEED_STATS: dict[str, Stats] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "mnist": ((MNIST_MEAN_STD[0],), (MNIST_MEAN_STD[1],)),
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

