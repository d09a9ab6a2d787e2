"""Mini-batches cut from whole-split tensors.

A batch is one indexing operation on ``ds.x`` and ``ds.y``: no per-sample Python
and no ``DataLoader``, so a small dataset kept on the GPU never leaves it. Images
stay ``uint8`` in memory (4x smaller) and become ``float32`` per batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from snncli.data.dataset import ImageSet
from snncli.data.folder import FolderImageSet


def to_unit_float(x: torch.Tensor) -> torch.Tensor:
    """``uint8`` images to ``float32`` in ``[0, 1]``; float images are copied as ``float32``.

    The copy matters: a batch that aliased the dataset would let an in-place edit by the
    caller (an attack step, say) corrupt the stored images.
    """
    if x.dtype == torch.uint8:
        return x.to(torch.float32).div_(255.0)
    return x.to(torch.float32, copy=True)


def sample_order(n: int, shuffle: bool, generator: torch.Generator | None = None) -> torch.Tensor | None:
    """The visiting order of one epoch: a permutation drawn from ``generator``, or ``None`` for file order."""
    if not shuffle:
        return None
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.randperm(n, generator=generator, device=device)


def iterate_batches(
    ds: ImageSet | FolderImageSet,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Iterates once over a split in mini-batches.

    The permutation is drawn when this function is called, so two calls with generators
    in the same state visit the samples in the same order.

    Args:
        ds: The split; a :class:`FolderImageSet` is decoded through its own loader.
        batch_size: Samples per batch; the last batch may be smaller.
        shuffle: Visit samples in a random order drawn from ``generator``.
        generator: Source of the permutation; ``None`` uses torch's global generator.
        device: Where batches go; defaults to the device ``ds`` lives on.
        drop_last: Skip the final batch when it is smaller than ``batch_size``.

    Yields:
        ``(x, y)``: ``float32`` images in ``[0, 1]`` and ``int64`` labels.

    Shape:
        - x: ``[B, C, H, W]``
        - y: ``[B]``
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sample_order(len(ds), shuffle, generator)
    if isinstance(ds, FolderImageSet):
        if order is None:
            order = torch.arange(len(ds))
        return ds.batches_in_order(order, batch_size, device=device, drop_last=drop_last)
    return _tensor_batches(ds, batch_size, order, device, drop_last)


def _tensor_batches(
    ds: ImageSet,
    batch_size: int,
    order: torch.Tensor | None,
    device: torch.device | str | None,
    drop_last: bool,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = len(ds)
    target = torch.device(device) if device is not None else ds.x.device
    if order is not None:
        order = order.to(ds.x.device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            xb, yb = ds.x[start : start + batch_size], ds.y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            xb, yb = ds.x[idx], ds.y[idx]
        # Move before converting: uint8 crosses the bus in a quarter of the bytes.
        xb = xb.to(target, non_blocking=True)
        yb = yb.to(target, non_blocking=True)
        yield to_unit_float(xb), yb
