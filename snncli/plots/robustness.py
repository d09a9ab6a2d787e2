"""Accuracy under attack against the budget eps, one line per run (and per attack)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from ._figure import new_figure, save


def plot_attack_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]], path: Path, title: str = "Accuracy under attack",
    dashed: Sequence[str] = (),
) -> Path:
    """Accuracy vs eps (in grey levels, eps x 255) for each labelled curve.

    Args:
        curves: label (``"run: attack"``) -> rows with ``"eps"`` and ``"accuracy"``.
        path: PNG to write.
        title: figure title.
        dashed: labels drawn dashed (gradient-free attacks, so masking stands out).

    Raises:
        ValueError: no curves, or a row without ``eps``/``accuracy``.
    """
    if not curves:
        raise ValueError("no attack results to plot")
    fig, (ax,) = new_figure(1, size=(7.0, 4.4))
    for label, rows in curves.items():
        if any("eps" not in r or "accuracy" not in r for r in rows):
            raise ValueError(f"{label}: every row needs 'eps' and 'accuracy'")
        xs = [r["eps"] * 255 for r in rows]
        ax.plot(xs, [r["accuracy"] for r in rows], marker="o", ls="--" if label in dashed else "-", label=label)
    ax.set_xlabel("eps (grey levels of 255, L-inf)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return save(fig, path)
