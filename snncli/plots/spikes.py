"""Spiking activity: rasters, membrane traces, firing rates."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._figure import as_2d, finish, flatten_time, new_figure, short


def _pick(n: int, limit: int) -> torch.Tensor:
    """At most ``limit`` indices spread evenly over ``range(n)``."""
    if n <= limit:
        return torch.arange(n)
    return torch.linspace(0, n - 1, limit).round().long().unique()


def _raster(ax, spikes: torch.Tensor, max_neurons: int, label: str, neuron_names: Sequence[str] | None = None) -> None:
    T, n = spikes.shape
    idx = _pick(n, max_neurons)
    shown = spikes[:, idx]
    # An image, not one marker per spike: readable for 50 steps and for 5 000 000 spikes alike.
    ax.imshow((shown > 0).float().T.numpy(), aspect="auto", cmap="Greys", vmin=0, vmax=1,
              interpolation="nearest", origin="lower", extent=(-0.5, T - 0.5, -0.5, len(idx) - 0.5))
    rate = (spikes > 0).float().mean().item()
    shown_note = f"{len(idx)} of {n} neurons" if len(idx) < n else f"{n} neurons"
    ax.set_title(f"{label}\n{shown_note}, rate {rate:.3f} spikes/neuron/step", fontsize=9)
    ax.set_xlabel("time step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if neuron_names is not None and len(neuron_names) == n and n <= 40:  # an output layer: its neurons are classes
        ax.set_yticks(range(n), short(neuron_names, 16), fontsize=7 if n > 12 else 8)
        ax.set_ylabel("class")
    else:
        ax.set_ylabel("neuron" + (" (subsampled)" if len(idx) < n else ""))


def plot_raster(spikes: torch.Tensor, path: Path | None = None, title: str = "Spikes", max_neurons: int = 512,
                neuron_names: Sequence[str] | None = None) -> Figure:
    """Spike raster of one population: time on x, neuron on y, a dark cell per spike.

    Args:
        spikes: ``[T, N]`` spikes (nonzero = spike) of N neurons for one input.
        path: PNG to write (``None``: only return the figure).
        title: figure title.
        max_neurons: show at most this many neurons, evenly spaced over the population.
        neuron_names: names of the N neurons (class names of an output layer), on the y axis.

    Raises:
        ValueError: ``spikes`` is not 2-D.
    """
    spikes = as_2d(spikes, "spikes", "[T, N] (one input)")
    fig, (ax,) = new_figure(1, size=(7.0, 4.5))
    _raster(ax, spikes, max_neurons, title, neuron_names)
    return finish(fig, path)


def plot_layer_rasters(
    hidden: Sequence[torch.Tensor],
    path: Path | None = None,
    title: str = "Spikes per layer",
    names: Sequence[str] | None = None,
    max_neurons: int = 512,
    classes: Sequence[str] | None = None,
    predicted: int | None = None,
) -> Figure:
    """One raster panel per layer, input side first; the output layer's neurons named by class.

    Args:
        hidden: per layer the spikes of one input, ``[T, ...]``: ``[T, N]`` for a dense layer,
            ``[T, C, H, W]`` for a convolutional one (flattened to ``C*H*W`` neurons). From a
            recorded forward pass (``out.hidden``, ``[T, B, ...]``) pass ``[h[:, i] for h in out.hidden]``.
        path: PNG to write (``None``: only return the figure).
        title: figure title.
        names: panel titles (default ``layer 1``, ``layer 2``, ...).
        max_neurons: neurons shown per panel.
        classes: class names: the last layer's neurons on its y axis, with each class's spike count.
        predicted: the network's prediction for this input (an index into ``classes``), named in
            the last panel's title.

    Raises:
        ValueError: no layers, a layer that is not ``[T, ...]``, or a wrong number of names.
    """
    if not hidden:
        raise ValueError("no layers to plot")
    names = list(names) if names is not None else [f"layer {i + 1}" for i in range(len(hidden))]
    if len(names) != len(hidden):
        raise ValueError(f"{len(names)} names for {len(hidden)} layers")
    seqs = [flatten_time(h, f"hidden[{i}]") for i, h in enumerate(hidden)]
    fig, axes = new_figure(len(seqs), cols=min(len(seqs), 3), size=(5.0, 4.0))
    labels = short(names)
    if classes is not None and len(classes) == seqs[-1].shape[1]:
        counts = (seqs[-1] > 0).sum(0).int().tolist()
        named = [f"{c} ({k})" for c, k in zip(classes, counts)]
        if predicted is not None:
            labels[-1] += f"\npredicted: {classes[predicted]}"
    else:
        named = None
    for i, (ax, seq, name) in enumerate(zip(axes, seqs, labels)):
        _raster(ax, seq, max_neurons, name, named if i == len(seqs) - 1 else None)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)


def plot_membrane(
    mem: torch.Tensor,
    path: Path | None = None,
    title: str = "Membrane potential",
    threshold: float | None = None,
    max_traces: int = 10,
    labels: Sequence[str] | None = None,
) -> Figure:
    """Membrane potential traces over time, one line per neuron, the firing threshold dashed.

    Args:
        mem: ``[T, N]`` membrane potentials of N neurons for one input.
        path: PNG to write (``None``: only return the figure).
        title: figure title.
        threshold: firing threshold to draw (``None``: none).
        max_traces: draw at most this many neurons (evenly spaced); all are drawn when N is small.
        labels: legend names of the N neurons (e.g. class names for an output layer).

    Raises:
        ValueError: ``mem`` is not 2-D, or ``labels`` does not have N names.
    """
    mem = as_2d(mem, "mem", "[T, N] (one input)")
    T, n = mem.shape
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} neurons")
    idx = _pick(n, max_traces)
    fig, (ax,) = new_figure(1, size=(7.5, 4.2))
    steps = torch.arange(T).numpy()
    for i in idx.tolist():
        ax.plot(steps, mem[:, i].numpy(), lw=1.4, marker="." if T <= 30 else None,
                label=(labels[i] if labels is not None else f"neuron {i}"))
    if threshold is not None:
        ax.axhline(threshold, ls="--", color="black", lw=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("time step")
    ax.set_ylabel("membrane potential")
    ax.set_title(title + (f" ({len(idx)} of {n} neurons)" if len(idx) < n else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return finish(fig, path)


def plot_firing_rates(rates: Mapping[str, float], path: Path | None = None, title: str = "Firing rate per layer") -> Figure:
    """Bar chart of the mean firing rate (spikes per neuron per step) of each layer.

    Raises:
        ValueError: no layers, or a rate outside ``[0, 1]``.
    """
    if not rates:
        raise ValueError("no firing rates to plot")
    names, values = list(rates), [float(v) for v in rates.values()]
    bad = [n for n, v in zip(names, values) if not 0.0 <= v <= 1.0]
    if bad:
        raise ValueError(f"firing rates must lie in [0, 1] (spikes per neuron per step); {bad[0]} has {rates[bad[0]]}")
    fig, (ax,) = new_figure(1, size=(max(5.0, 0.9 * len(names) + 2), 4.0))
    bars = ax.bar(range(len(names)), values, color="tab:purple")
    ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=8)
    ax.set_xticks(range(len(names)), short(names, 18), rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    ax.set_ylabel("spikes / neuron / step")
    ax.set_ylim(0, max(values) * 1.2 if max(values) > 0 else 1)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return finish(fig, path)
