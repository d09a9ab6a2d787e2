"""Gradient flow: mean and max absolute gradient per parameter tensor, flagged tensors in colour."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from matplotlib.figure import Figure

from ._figure import finish, new_figure, short

_COLOURS = {"ok": "tab:blue", "vanishing": "tab:grey", "exploding": "tab:red"}


def plot_gradient_flow(rows: Sequence[Mapping], path: Path | None = None, title: str = "Gradient flow",
                       thresholds: Mapping[str, float] | None = None) -> Figure:
    """Bars of max |grad| (light) and mean |grad| (dark) per tensor, log scale, input side left.

    Args:
        rows: per tensor ``{"name", "mean_abs", "max_abs", "flag"}`` (``analysis.gradflow``).
        thresholds: ``{"vanish", "explode"}`` drawn as horizontal lines.
    """
    if not rows:
        raise ValueError("no layers to plot")
    fig, (ax,) = new_figure(1, size=(max(6.0, 0.7 * len(rows) + 3), 4.5))
    xs = range(len(rows))
    floor = 1e-12
    ax.bar(xs, [max(r["max_abs"], floor) for r in rows], color="tab:cyan", alpha=0.5, label="max |grad|")
    ax.bar(xs, [max(r["mean_abs"], floor) for r in rows], color=[_COLOURS.get(r.get("flag", "ok"), "tab:blue") for r in rows],
           label="mean |grad| (grey: vanishing, red: exploding)")
    ax.set_yscale("log")
    if thresholds:
        ax.axhline(thresholds["vanish"], color="grey", ls="--", lw=1, label=f"vanishing < {thresholds['vanish']:g}")
        ax.axhline(thresholds["explode"], color="red", ls="--", lw=1, label=f"exploding > {thresholds['explode']:g}")
    ax.set_xticks(list(xs), short([r["name"] for r in rows], 22), rotation=35, ha="right")
    ax.set_ylabel("|gradient| (log)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig, path)
