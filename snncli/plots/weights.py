"""Histograms of weights per layer, optionally before/after (plasticity, pruning, attacks on weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._figure import finish, new_figure


def plot_weight_histograms(
    layers: Mapping[str, torch.Tensor],
    path: Path | None = None,
    title: str = "Weights",
    compare: Mapping[str, torch.Tensor] | None = None,
    labels: tuple[str, str] = ("before", "after"),
    masks: Mapping[str, torch.Tensor] | None = None,
    bins: int = 80,
) -> Figure:
    """One panel per layer with the histogram of its weights; with ``compare``, beside it the
    histogram of the change, Δw = compare − layers (small changes are invisible in the overlay).

    Args:
        layers: layer name -> weight tensor (any shape).
        path: PNG to write (``None``: only return the figure).
        title: figure title.
        compare: a second set of weights for the same layers (e.g. after plasticity), drawn over the
            first, and their difference in a panel of its own; panels of layers missing from
            ``compare`` show ``layers`` alone.
        labels: legend names of ``layers`` and ``compare``.
        masks: layer name -> connectivity mask (same shape, nonzero = connection exists). Weights
            where the mask is 0 are left out of both histograms: in a G2G layer they are
            structurally absent, and counting them would draw a spike at 0 that hides the
            distribution of the connections that exist.
        bins: histogram bins (shared by both sets of a panel).

    Returns:
        The figure.

    Raises:
        ValueError: no layers, or a mask or comparison of a different shape from its layer.
    """
    if not layers:
        raise ValueError("no layers to plot")
    names = list(layers)
    deltas = bool(compare) and any(n in compare for n in names)
    if deltas:  # one row per layer: before/after, then the change
        fig, grid = new_figure(2 * len(names), cols=2, size=(4.6, 3.2))
        axes, delta_axes = grid[0::2], grid[1::2]
    else:
        fig, axes = new_figure(len(names), cols=min(len(names), 3), size=(4.6, 3.2))
        delta_axes = [None] * len(names)
    for ax, delta_ax, name in zip(axes, delta_axes, names):
        w = layers[name].detach().float().cpu()
        other = compare.get(name) if compare else None
        keep = None
        if masks and name in masks:
            keep = masks[name].detach().cpu().bool()
            if keep.shape != w.shape:
                raise ValueError(f"mask of {name} has shape {tuple(keep.shape)}, its weights {tuple(w.shape)}")
        if other is not None:
            other = other.detach().float().cpu()
            if other.shape != w.shape:
                raise ValueError(f"compare[{name!r}] has shape {tuple(other.shape)}, layers[{name!r}] {tuple(w.shape)}")
        a = w[keep] if keep is not None else w.reshape(-1)
        b = (other[keep] if keep is not None else other.reshape(-1)) if other is not None else None
        both = torch.cat([a, b]) if b is not None else a
        lo, hi = (both.min().item(), both.max().item()) if both.numel() else (-1.0, 1.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = torch.linspace(lo, hi, bins + 1).numpy()
        ax.hist(a.numpy(), bins=edges, alpha=0.6 if b is not None else 0.85, label=labels[0], color="tab:blue")
        if b is not None:
            ax.hist(b.numpy(), bins=edges, alpha=0.6, label=labels[1], color="tab:orange")
            ax.legend(fontsize=8)
        sub = f"{a.numel():,} weights" + (" (mask applied)" if keep is not None else "")
        ax.set_title(f"{name}\n{sub}, mean {a.mean():.3g}, std {a.std():.3g}" if a.numel() > 1 else name, fontsize=9)
        ax.set_xlabel("weight")
        ax.set_ylabel("count")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if delta_ax is not None:
            _delta_panel(delta_ax, name, a, b, bins, labels)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def _delta_panel(ax, name: str, before: torch.Tensor, after: torch.Tensor | None, bins: int, labels: tuple[str, str]) -> None:
    """Histogram of Δw = after − before, with how many weights changed and by how much."""
    if after is None:
        ax.set_visible(False)
        return
    d = after - before
    changed = int((d != 0).sum())
    span = float(d.abs().max()) if d.numel() else 0.0
    edges = torch.linspace(-span, span, bins + 1).numpy() if span > 0 else bins
    ax.hist(d.numpy(), bins=edges, color="tab:green", alpha=0.85)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yscale("log")  # the unchanged weights' bar at 0 would flatten the rest
    ax.set_title(f"{name}: Δw = {labels[1]} − {labels[0]}\n{changed:,} of {d.numel():,} changed, "
                 f"mean {d.mean():.2g}, max |Δw| {span:.2g}", fontsize=9)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))  # 1e-4-sized changes: short tick labels
    ax.set_xlabel("Δw")
    ax.set_ylabel("count (log)")
    ax.grid(alpha=0.3)
