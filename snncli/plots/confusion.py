"""Confusion matrices (rows: true class, columns: predicted), counts written in every cell."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from matplotlib.figure import Figure

from ._figure import finish, new_figure, short


def plot_confusion(
    cm: torch.Tensor, classes: Sequence[str], path: Path | None = None, title: str = "Confusion matrix",
    normalize: bool = True,
) -> Figure:
    """Heat map of a confusion matrix with the count in each cell.

    Args:
        cm: ``[C, C]`` counts, ``cm[true, predicted]`` (see :func:`snncli.analysis.metrics.confusion_matrix`).
        classes: the C class names.
        path: PNG to write (``None``: only return the figure).
        title: figure title.
        normalize: colour by the share of each true class (row) instead of the raw count; the cells
            still show counts (and the row share).

    Returns:
        The figure.

    Raises:
        ValueError: ``cm`` not square, or the number of names differs from C.
    """
    if not isinstance(cm, torch.Tensor) or cm.dim() != 2 or cm.shape[0] != cm.shape[1]:
        shape = tuple(cm.shape) if isinstance(cm, torch.Tensor) else type(cm).__name__
        raise ValueError(f"cm must be a square [C, C] tensor, got {shape}")
    n = cm.shape[0]
    if len(classes) != n:
        raise ValueError(f"{len(classes)} class names for a {n}x{n} confusion matrix")
    counts = cm.detach().double().cpu()
    shares = counts / counts.sum(1, keepdim=True).clamp(min=1)
    shown = shares if normalize else counts
    side = max(4.5, 0.55 * n + 2.0)
    fig, (ax,) = new_figure(1, size=(side + 1.0, side))
    im = ax.imshow(shown.numpy(), cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of true class" if normalize else "count")
    names = short(classes, 14)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = counts.diagonal().sum() / counts.sum().clamp(min=1)
    ax.set_title(f"{title}\naccuracy {acc.item():.3f} on {int(counts.sum())} samples")
    if n <= 30:
        fontsize = 8 if n <= 12 else 6
        cut = (shown.max().item() or 1) * 0.6
        for i in range(n):
            for j in range(n):
                c = int(counts[i, j])
                text = f"{c}\n{shares[i, j]:.0%}" if normalize and n <= 12 and c else str(c)
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                        color="white" if shown[i, j] > cut else "black")
    return finish(fig, path)
