"""Figures of the plasticity experiment: post-training trajectories, spike heat maps, STDP receptive fields."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ._figure import as_2d, new_figure, save, short


def plot_post_training(
    trajectories: Mapping[str, Sequence[Mapping[str, Any]]], path: Path, title: str = "Post-training"
) -> Path:
    """Test accuracy and macro F1 against the post-training epoch, one line per eta.

    Args:
        trajectories: eta label -> rows ``{"epoch", "test_acc", "macro_f1"}`` (epoch 0 = before
            post-training; accuracies as fractions, drawn in percent).
        path: PNG to write.
        title: figure title.

    Raises:
        ValueError: no trajectories.
    """
    if not trajectories:
        raise ValueError("no post-training trajectories to plot")
    fig, (acc_ax, f1_ax) = new_figure(2, cols=2, size=(5.2, 3.8))
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]
    for k, (label, rows) in enumerate(trajectories.items()):
        epochs = [r["epoch"] for r in rows]
        # Distinct markers and dashes: trajectories that coincide (all collapsed to chance) stay visible.
        marker, dash = styles[k % len(styles)]
        style = {"marker": marker, "linestyle": dash, "markersize": 7 - k % 3, "label": f"η = {label}"}
        acc_ax.plot(epochs, [100 * r["test_acc"] for r in rows], **style)
        f1_ax.plot(epochs, [r["macro_f1"] for r in rows], **style)
        acc_ax.annotate(f"{100 * rows[-1]['test_acc']:.1f}", (epochs[-1], 100 * rows[-1]["test_acc"]),
                        textcoords="offset points", xytext=(4, 0), fontsize=8, va="center")
    for ax, ylabel in ((acc_ax, "test accuracy (%)"), (f1_ax, "macro F1")):
        ax.set_xlabel("post-training epoch (0 = supervised baseline)")
        ax.set_ylabel(ylabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_spike_heatmaps(
    image: torch.Tensor, hidden: torch.Tensor, output: torch.Tensor, label: int | None, path: Path,
    classes: Sequence[str] | None = None, title: str = "Spikes", max_neurons: int = 128,
) -> Path:
    """Input image, hidden spikes over time, and output spike count per class, for one example.

    Args:
        image: ``[H, W]`` input (intensity).
        hidden: ``[T, N]`` hidden-layer spikes; the ``max_neurons`` most active neurons are shown,
            most active on top.
        output: ``[T, C]`` output spikes.
        label: the true class (marked), or ``None``.
        path: PNG to write.
        classes: class names.
        title: figure title.
        max_neurons: hidden neurons shown.
    """
    image = as_2d(image, "image", "[H, W]")
    hidden = as_2d(hidden, "hidden", "[T, N]")
    output = as_2d(output, "output", "[T, C]")
    T, n = hidden.shape
    counts = output.sum(0)
    names = short(list(classes) if classes is not None else [str(i) for i in range(output.shape[1])], 14)
    fig, (ax_img, ax_hid, ax_out) = new_figure(3, cols=3, size=(4.2, 3.8))
    ax_img.imshow(image.numpy(), cmap="gray")
    ax_img.set_title(f"input (true: {names[label]})" if label is not None else "input", fontsize=9)
    ax_img.axis("off")
    order = hidden.sum(0).argsort(descending=True)[:max_neurons]
    shown = hidden[:, order]
    im = ax_hid.imshow(shown.T.numpy(), aspect="auto", cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    active = int((hidden.sum(0) > 0).sum())
    ax_hid.set_title(f"hidden spikes: {len(order)} most active of {n}\n({active} fired, "
                     f"{hidden.mean().item():.3f} spikes/neuron/step)", fontsize=9)
    ax_hid.set_xlabel("time step")
    ax_hid.set_ylabel("neuron (by spike count)")
    fig.colorbar(im, ax=ax_hid, fraction=0.046, pad=0.04, ticks=[0, 1])
    pred = int(counts.argmax()) if counts.sum() > 0 else None
    colors = ["tab:gray"] * len(names)
    if pred is not None:
        colors[pred] = "tab:orange"
    if label is not None:
        colors[label] = "tab:green" if pred == label else colors[label]
    ax_out.barh(range(len(names)), counts.numpy(), color=colors)
    ax_out.set_yticks(range(len(names)))
    ax_out.set_yticklabels(names, fontsize=8)
    if label is not None:
        ax_out.get_yticklabels()[label].set_color("tab:green")
        ax_out.get_yticklabels()[label].set_fontweight("bold")
    ax_out.invert_yaxis()
    ax_out.set_xlim(0, max(T, 1))
    ax_out.set_xlabel(f"output spikes over {T} steps")
    verdict = "no output spikes" if pred is None else f"predicted: {names[pred]}" + (
        " (correct)" if pred == label else "")
    if label is not None:
        verdict += "\ntrue class in green"

    ax_out.set_title(verdict, fontsize=9)
    ax_out.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_receptive_fields(
    weight: torch.Tensor, shape: Sequence[int], assignments: torch.Tensor | None, classes: Sequence[str] | None,
    path: Path, title: str = "Receptive fields", max_neurons: int = 100,
) -> Path:
    """Each neuron's incoming weights drawn as an image, in a grid, titled by its assigned class.

    Args:
        weight: ``[N, C*H*W]``.
        shape: ``(C, H, W)`` of one input (channels are averaged).
        assignments: ``[N]`` class per neuron (``-1``: never fired) or ``None``.
        classes: class names.
        path: PNG to write.
        title: figure title.
        max_neurons: the first this many neurons are drawn.
    """
    weight = as_2d(weight, "weight", "[N, inputs]")
    c, h, w = shape
    n = min(weight.shape[0], max_neurons)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = new_figure(rows * cols, cols=cols, size=(1.1, 1.25))
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(weight[i].reshape(c, h, w).mean(0).numpy(), cmap="viridis")
        if assignments is not None:
            k = int(assignments[i])
            name = "-" if k < 0 else (short([classes[k]], 12)[0] if classes is not None else str(k))
            ax.set_title(name, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_accuracy_trajectory(
    test_acc: Sequence[float], path: Path, title: str, macro_f1: Sequence[float] | None = None, color: str = "tab:blue",
) -> Path:
    """One post-training run: test accuracy before post-training ("Baseline") and after every epoch.

    The seed's ``post_training_gentle_lr.png`` / ``post_training_strong_lr.png``, one figure per eta.

    Args:
        test_acc: accuracies in percent, the baseline first.
        path: PNG to write.
        title: figure title (name the eta).
        macro_f1: macro F1 per point (fractions), drawn times 100 on the same axis when given.
        color: line colour of the accuracy.

    Raises:
        ValueError: no points, or ``macro_f1`` of another length.
    """
    if not test_acc:
        raise ValueError("no accuracies to plot")
    if macro_f1 is not None and len(macro_f1) != len(test_acc):
        raise ValueError(f"macro_f1 has {len(macro_f1)} points, test_acc {len(test_acc)}")
    fig, (ax,) = new_figure(1, size=(5.4, 4.0))
    epochs = list(range(len(test_acc)))
    ax.plot(epochs, list(test_acc), marker="o", color=color, label="test accuracy (%)")
    for e, a in zip(epochs, test_acc):
        ax.annotate(f"{a:.2f}", (e, a), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    shown = list(test_acc)
    if macro_f1 is not None:
        # On the same axis (x100), so the two slopes compare honestly.
        f1 = [100 * v for v in macro_f1]
        ax.plot(epochs, f1, marker="s", linestyle="--", color="tab:gray", label="macro F1 × 100")
        shown += f1
        ax.legend(fontsize=8, loc="lower left")
    ax.set_xticks(epochs, ["Baseline", *(str(e) for e in epochs[1:])])
    ax.set_xlabel("Post-training epoch")
    ax.set_ylabel("Test accuracy (%)")
    lo, hi = min(shown), max(shown)
    pad = max(2.0, 0.15 * (hi - lo))
    ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad))
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    return save(fig, path)


def plot_learning_window(
    lags: Sequence[int] | torch.Tensor, window: Sequence[float] | torch.Tensor, path: Path,
    title: str = "STDP learning window", example_lag: int | None = None, unit: str = "steps",
) -> Path:
    """A spike-timing rule's window, ``dw`` against ``dt = t_post - t_pre``, with an LTP and an LTD example.

    The figure the plasticity seed draws for its STDP rule (``stdp_learning_rule.png``): the window
    with potentiation and depression shaded, then one pre-before-post pair and one post-before-pre
    pair on a time axis with their weight changes.

    Args:
        lags: ``dt`` values (integers, both signs).
        window: the weight change at each lag (e.g. :func:`snncli.plasticity.pair_window`).
        path: PNG to write.
        title: title of the window panel.
        example_lag: ``|dt|`` of the two examples (default: the lag nearest a quarter of the range).
        unit: time unit of the axis.

    Raises:
        ValueError: lags and window of different lengths, or fewer than two points.
    """
    lags_t = torch.as_tensor(lags, dtype=torch.long).flatten()
    w = torch.as_tensor(window, dtype=torch.float32).flatten()
    if lags_t.numel() != w.numel() or lags_t.numel() < 2:
        raise ValueError(f"need matching lags and window values (at least 2), got {lags_t.numel()} and {w.numel()}")
    order = lags_t.argsort()
    lags_t, w = lags_t[order], w[order]
    span = int(lags_t.abs().max())
    if example_lag is None:
        example_lag = max(1, round(span / 4))
    value = {int(d): float(v) for d, v in zip(lags_t, w)}
    fig, (ax, ltp_ax, ltd_ax) = new_figure(3, cols=3, size=(4.6, 3.8))
    x, y = lags_t.numpy(), w.numpy()
    ax.plot(x, y, color="navy", linewidth=2, marker="o", markersize=3)
    ax.fill_between(x, y, 0, where=y > 0, color="tab:green", alpha=0.3, label="LTP (potentiation)")
    ax.fill_between(x, y, 0, where=y < 0, color="tab:red", alpha=0.3, label="LTD (depression)")
    ax.axhline(0, color="black", linewidth=1)
    ax.axvline(0, color="tab:red", linestyle="--", alpha=0.6)
    ax.set_xlabel(f"Δt = t_post − t_pre ({unit})")
    ax.set_ylabel("Δw (per pair, units of η)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    for panel, dt, kind, color in ((ltp_ax, example_lag, "LTP", "tab:green"), (ltd_ax, -example_lag, "LTD", "tab:red")):
        pre_t = 2 * example_lag if dt < 0 else example_lag
        post_t = pre_t + dt
        panel.eventplot([[pre_t]], lineoffsets=1.0, linelengths=0.3, linewidths=4, colors="tab:blue")
        panel.eventplot([[post_t]], lineoffsets=0.5, linelengths=0.3, linewidths=4, colors="tab:red")
        first, second = ((pre_t, 0.9), (post_t, 0.6)) if dt > 0 else ((post_t, 0.6), (pre_t, 0.9))
        panel.annotate("", xy=second, xytext=first, arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
        panel.set_yticks([0.5, 1.0], ["post", "pre"])
        panel.set_ylim(0.1, 1.5)
        panel.set_xlim(-1, 4 * example_lag)
        panel.set_xlabel(f"time ({unit})")
        dw = value.get(dt)
        text = f"Δt = {dt:+d}\nΔw = {dw:+.4g}" if dw is not None else f"Δt = {dt:+d}"
        panel.text(0.97, 0.95, text, transform=panel.transAxes, ha="right", va="top", fontsize=9,
                   bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": color})
        panel.set_title(f"{kind} example", color=color)
    fig.tight_layout()
    return save(fig, path)
