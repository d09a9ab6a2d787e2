"""Intermediate representations and connectivity/routing masks as images."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import torch
from matplotlib.figure import Figure

from ._figure import finish, new_figure, short


def _as_image(t: torch.Tensor) -> torch.Tensor:
    """A per-sample activity map as a 2-D image: ``[C, H, W]`` -> channel tiles, ``[N]`` -> near-square grid."""
    if t.dim() == 3:  # channels tiled into a near-square mosaic (first 16)
        c = min(t.shape[0], 16)
        cols = math.ceil(math.sqrt(c))
        rows = math.ceil(c / cols)
        h, w = t.shape[1:]
        out = torch.full((rows * (h + 1), cols * (w + 1)), float("nan"))
        for k in range(c):
            r, q = divmod(k, cols)
            out[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = t[k]
        return out
    flat = t.reshape(-1)
    n = flat.numel()
    side = math.ceil(math.sqrt(n))
    out = torch.full((side * side,), float("nan"))
    out[:n] = flat
    return out.reshape(side, side)


def plot_feature_maps(
    images: torch.Tensor, layers: Sequence[torch.Tensor], path: Path | None = None, names: Sequence[str] | None = None,
    title: str = "Intermediate representations", labels: Sequence[str] | None = None,
    classes: Sequence[str] | None = None, predicted: Sequence[int] | None = None,
) -> Figure:
    """Rows: inputs; columns: the input image, then each layer's firing rate per neuron (mean
    over time), dense layers folded into a square, convolutional ones as channel tiles; the output
    layer, when ``classes`` names its neurons, as a labelled bar per class.

    Args:
        images: ``[B, C, H, W]`` inputs in ``[0, 1]``.
        layers: per layer ``[T, B, ...]`` spikes, the output layer last.
        path: PNG to write (``None``: only return the figure).
        names: column titles of the layers.
        labels: row titles (e.g. true and predicted class).
        classes: the output neurons' class names (as many as the last layer has neurons).
        predicted: per input the predicted class, drawn in another colour.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be [B, C, H, W], got {tuple(images.shape)}")
    b = images.shape[0]
    if any(h.dim() < 3 or h.shape[1] != b for h in layers):
        raise ValueError(f"every layer must be [T, B={b}, ...]")
    names = list(names) if names is not None else [f"layer {i + 1}" for i in range(len(layers))]
    output = classes is not None and layers[-1][0, 0].numel() == len(classes)
    cols = 1 + len(layers)
    fig, axes = new_figure(b * cols, cols=cols, size=(2.4, 2.4))
    maps = []
    for i in range(b):
        img = images[i].detach().float().cpu()
        ax = axes[i * cols]
        ax.imshow(img.permute(1, 2, 0).numpy() if img.shape[0] == 3 else img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title("input" if labels is None else labels[i], fontsize=8)
        for j, h in enumerate(layers):
            rate = h[:, i].detach().float().cpu().mean(0)
            ax = axes[i * cols + 1 + j]
            if output and j == len(layers) - 1:
                _class_bars(ax, rate.reshape(-1), classes, None if predicted is None else int(predicted[i]), first=i == 0)
                continue
            im = ax.imshow(_as_image(rate).numpy(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            maps.append(ax)
            ax.set_title(short([names[j]], 18)[0] + (f"\nrate {rate.mean():.3f}" if i == 0 else f"  {rate.mean():.3f}"), fontsize=8)
    for i in range(b):
        axes[i * cols].set_xticks([])
        axes[i * cols].set_yticks([])
    fig.set_layout_engine("constrained")  # titles of each row clear of the tick labels of the row above
    if maps:
        fig.colorbar(im, ax=axes, orientation="horizontal", shrink=0.4, aspect=30, label="spikes / step")
    fig.suptitle(title)
    return finish(fig, path)


def _class_bars(ax, rate: torch.Tensor, classes: Sequence[str], predicted: int | None, first: bool) -> None:
    """The output layer of one input: firing rate per class, the predicted class in orange."""
    colours = ["tab:orange" if k == predicted else "tab:purple" for k in range(len(classes))]
    ax.barh(range(len(classes)), rate.numpy(), color=colours)
    ax.set_yticks(range(len(classes)), short(classes, 12), fontsize=6)
    ax.invert_yaxis()
    silent = float(rate.max()) == 0
    ax.set_xlim(0, 1.0 if silent else float(rate.max()) * 1.1)  # a silent output: a plain 0..1 axis, not 0..0.001
    ax.tick_params(axis="x", labelsize=6)
    if silent:  # every score ties at 0: the prediction is the tie-break, not the network's choice
        tie = f": {short([classes[predicted]], 12)[0]} by tie-break" if predicted is not None else ""
        ax.set_title(f"output: no spike at all{tie}", fontsize=8, color="tab:red")
        return
    ax.set_title("output: rate per class" + ("\n(orange: predicted)" if first and predicted is not None else ""), fontsize=8)


def plot_masks(masks: Mapping[str, torch.Tensor], path: Path | None = None, title: str = "Connectivity masks",
               max_side: int = 256) -> Figure:
    """One panel per mask: 2-D ``[out, in]`` connectivity (block-averaged to at most ``max_side``
    pixels a side, so the group structure shows) or ``[C, H, W]`` routing maps (channel tiles).

    Raises:
        ValueError: no masks, or a mask that is neither 2-D nor 3-D.
    """
    if not masks:
        raise ValueError("no masks to plot")
    fig, axes = new_figure(len(masks), cols=min(len(masks), 3), size=(4.6, 4.2))
    for ax, (name, m) in zip(axes, masks.items()):
        m = m.detach().float().cpu()
        if m.dim() == 2:
            f0, f1 = max(1, math.ceil(m.shape[0] / max_side)), max(1, math.ceil(m.shape[1] / max_side))
            shown = torch.nn.functional.avg_pool2d(m[None, None], (f0, f1), ceil_mode=True)[0, 0]
            im = ax.imshow(shown.numpy(), cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
            ax.set_xlabel(f"input neuron (x{f1})" if f1 > 1 else "input neuron")
            ax.set_ylabel(f"output neuron (x{f0})" if f0 > 1 else "output neuron")
            sub = f"density {m.mean():.3f}, {tuple(m.shape)}"
        elif m.dim() == 3:
            im = ax.imshow(_as_image(m).numpy(), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            sub = f"mean {m.mean():.3f}, {m.shape[0]} channels"
        else:
            raise ValueError(f"mask {name} must be [out, in] or [C, H, W], got {tuple(m.shape)}")
        ax.set_title(f"{short([name], 26)[0]}\n{sub}", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path)
