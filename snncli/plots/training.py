"""Training curves from a run's per-epoch history (``metrics.jsonl`` rows)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._figure import finish, new_figure


def plot_curves(
    history: Sequence[dict[str, Any]],
    path: Path | None = None,
    keys: Sequence[str] = ("train_acc", "val_acc", "test_acc"),
    title: str = "Accuracy",
    chance: float | None = None,
) -> Figure:
    """One line per metric against the epoch (whole epochs on the axis).

    Args:
        history: per-epoch rows, each with an ``"epoch"`` key (as ``snn train`` writes them).
        path: PNG to write (``None``: only return the figure).
        keys: metrics to draw; keys that no row holds are skipped.
        title: figure title.
        chance: accuracy of guessing (1 / classes), drawn dashed so a curve near it reads as "not learning".

    Returns:
        The figure.

    Raises:
        ValueError: no rows, a row without ``"epoch"``, or none of ``keys`` in any row.
    """
    if not history:
        raise ValueError("history is empty: nothing to plot")
    if any("epoch" not in row for row in history):
        raise ValueError("every history row needs an 'epoch' key")
    present = [k for k in keys if any(_finite(row.get(k)) for row in history)]
    if not present:
        raise ValueError(f"none of {', '.join(keys)} is in the history (it has {', '.join(history[0])})")
    fig, (ax,) = new_figure(1, size=(6.0, 4.0))
    for key in present:
        pts = [(row["epoch"], float(row[key])) for row in history if _finite(row.get(key))]
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel(title.splitlines()[0].lower() if len(present) > 1 else present[0])
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if chance is not None:
        ax.axhline(chance, ls="--", color="grey", lw=1, label=f"chance ({chance:.2g})")
    ax.legend()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no 1.5
    if len(history) == 1:
        ax.set_xticks([history[0]["epoch"]])
    return finish(fig, path)


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
