"""Histograms of weights per layer, optionally before/after (plasticity, pruning, attacks on weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import torch

from ._figure import new_figure, save


def plot_weight_histograms(
    layers: Mapping[str, torch.Tensor],
    path: Path,
    title: str = "Weights",
    compare: Mapping[str, torch.Tensor] | None = None,
    labels: tuple[str, str] = ("before", "after"),
    masks: Mapping[str, torch.Tensor] | None = None,
    bins: int = 80,
) -> Path:
    """One panel per layer with the histogram of its weights.

    Args:
        layers: layer name -> weight tensor (any shape).
        path: PNG to write.
        title: figure title.
        compare: a second set of weights for the same layers (e.g. after plasticity), drawn over the
            first; panels of layers missing from ``compare`` show ``layers`` alone.
        labels: legend names of ``layers`` and ``compare``.
        masks: layer name -> connectivity mask (same shape, nonzero = connection exists). Weights
            where the mask is 0 are left out of both histograms: in a G2G layer they are
            structurally absent, and counting them would draw a spike at 0 that hides the
            distribution of the connections that exist.
        bins: histogram bins (shared by both sets of a panel).

    Returns:
        ``path``.

    Raises:
        ValueError: no layers, or a mask or comparison of a different shape from its layer.
    """
    if not layers:
        raise ValueError("no layers to plot")
    names = list(layers)
    fig, axes = new_figure(len(names), cols=min(len(names), 3), size=(4.6, 3.2))
    for ax, name in zip(axes, names):
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
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
