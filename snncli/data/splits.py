"""Deterministic, class-stratified splits of a dataset.

Both functions shuffle every class separately with a generator seeded from
``seed`` and deal its samples out, so each class keeps its share in every part
and the same seed gives the same split on any machine.
"""

from __future__ import annotations

import torch

from snncli.data.dataset import ImageSet
from snncli.data.folder import FolderImageSet


def _shuffled_classes(y: torch.Tensor, seed: int) -> list[torch.Tensor]:
    y = y.cpu()
    g = torch.Generator().manual_seed(seed)
    groups = []
    for label in torch.unique(y).tolist():
        members = torch.nonzero(y == label).flatten()
        groups.append(members[torch.randperm(len(members), generator=g)])
    return groups


def train_val_split(
    ds: ImageSet | FolderImageSet, val_fraction: float, seed: int
) -> tuple[ImageSet | FolderImageSet, ImageSet | FolderImageSet]:
    """Holds out ``val_fraction`` of every class as a validation split.

    Each class with ``n`` samples gives ``round(n * val_fraction)`` of them to
    validation, but always leaves at least one in training. Both parts keep the
    original sample order.

    Args:
        ds: The split to divide (usually the training split).
        val_fraction: Share of each class to hold out, in ``(0, 1)``.
        seed: Seeds the per-class shuffles.

    Returns:
        ``(train, val)``.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    train_parts, val_parts = [], []
    for members in _shuffled_classes(ds.y, seed):
        n_val = min(round(len(members) * val_fraction), len(members) - 1)
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    train_idx = torch.cat(train_parts).sort().values
    val_idx = torch.cat(val_parts).sort().values
    return ds.subset(train_idx), ds.subset(val_idx)


def stratified_kfold(y: torch.Tensor, k: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Splits sample indices into ``k`` class-stratified folds.

    The per-class shuffles are laid end to end and dealt round-robin to the folds,
    so every class's count, and every fold's size, differ by at most one between folds.

    Args:
        y: Labels ``[N]``.
        k: Number of folds, ``2 <= k <= N``.
        seed: Seeds the per-class shuffles.

    Returns:
        ``k`` pairs ``(train_idx, val_idx)`` of sorted ``int64`` indices; the ``val_idx``
        are disjoint and together cover ``range(N)``.
    """
    n = int(y.shape[0])
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of samples ({n}), got {k}")
    dealt = torch.cat(_shuffled_classes(y, seed))
    fold_of = torch.empty(n, dtype=torch.int64)
    fold_of[dealt] = torch.arange(n) % k
    folds = []
    for fold in range(k):
        in_fold = fold_of == fold
        folds.append((torch.nonzero(~in_fold).flatten(), torch.nonzero(in_fold).flatten()))
    return folds


def contiguous_kfold(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Splits ``range(n)`` into ``k`` unshuffled blocks, as the G2G seed's cross-validation does.

    Fold *i* validates on ``[i * (n // k), (i + 1) * (n // k))``; the last fold also takes the
    remainder. Classes are not balanced (a dataset sorted by class gives folds of few classes).

    Returns:
        ``k`` pairs ``(train_idx, val_idx)`` of sorted ``int64`` indices.
    """
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and the number of samples ({n}), got {k}")
    size = n // k
    folds = []
    for fold in range(k):
        end = (fold + 1) * size if fold < k - 1 else n
        val = torch.arange(fold * size, end)
        folds.append((torch.cat([torch.arange(0, fold * size), torch.arange(end, n)]), val))
    return folds
