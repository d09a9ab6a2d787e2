"""Mean/std input normalisation, expressed as the encoders' affine ``x * scale + bias``.

The plasticity seed feeds MNIST as ``(x - 0.1307) / 0.3081`` (torchvision's ``Normalize`` with
the MNIST training set's pixel mean and standard deviation) straight into the first layer as an
analog current. ``(x - m) / s`` is the encoders' ``x * (1 / s) + (-m / s)``, so a normalisation
needs no new code path: every consumer of a run's ``enc_scale`` / ``enc_bias`` (training,
evaluation, attacks, analysis) applies it.
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
