"""Accuracy under attack against the budget eps, one line per run (and per attack)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    import torch

from ._figure import new_figure, save


def plot_attack_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]], path: Path, title: str = "Accuracy under attack",
    dashed: Sequence[str] = (), unit: str | None = None,
) -> Path:
    """Accuracy vs eps (in grey levels, eps x 255; or in ``unit`` as given) for each labelled curve.

    Args:
        curves: label (``"run: attack"``) -> rows with ``"eps"`` and ``"accuracy"``.
        path: PNG to write.
        title: figure title.
        dashed: labels drawn dashed (gradient-free attacks, so masking stands out).
        unit: the budgets' unit when they are not L-inf pixel values (pixels changed, theta...): drawn as given.

    Raises:
        ValueError: no curves, or a row without ``eps``/``accuracy``.
    """
    if not curves:
        raise ValueError("no attack results to plot")
    fig, (ax,) = new_figure(1, size=(7.0, 4.4))
    for label, rows in curves.items():
        if any("eps" not in r or "accuracy" not in r for r in rows):
            raise ValueError(f"{label}: every row needs 'eps' and 'accuracy'")
        xs = [r["eps"] * 255 if unit is None else r["eps"] for r in rows]
        ax.plot(xs, [r["accuracy"] for r in rows], marker="o", ls="--" if label in dashed else "-", label=label)
    ax.set_xlabel("eps (grey levels of 255, L-inf)" if unit is None else f"eps ({unit})")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return save(fig, path)


def plot_adversarial_examples(
    examples: Sequence[tuple[float, "torch.Tensor"]], path: Path, title: str = "Adversarial examples",
    eps_unit: str = "", predictions: Sequence[Sequence[int]] | None = None, labels: Sequence[int] | None = None,
    columns: int = 8,
) -> Path:
    """The images an attack produced at each budget, side by side (the seed saved one PNG per eps).

    Args:
        examples: ``(eps, images [K, C, H, W] in [0, 1])`` per budget, ascending; eps 0 shows the clean images.
        path: PNG to write.
        eps_unit: what eps measures (shown in the panel titles' legend).
        predictions: per budget, the model's class for each of the K images (optional).
        labels: the K true classes (optional; wrong predictions are titled in red).
        columns: budgets per row of the figure (a long grid wraps).

    Raises:
        ValueError: no examples, or image batches of different shapes.
    """
    from matplotlib.figure import Figure

    if not examples:
        raise ValueError("no adversarial examples to plot")
    shapes = {tuple(img.shape) for _, img in examples}
    if len(shapes) != 1 or len(next(iter(shapes))) != 4:
        raise ValueError(f"every budget needs images of one shape [K, C, H, W], got {sorted(shapes)}")
    k = next(iter(shapes))[0]
    n = len(examples)
    cols = min(columns, n)
    blocks = (n + cols - 1) // cols
    height = 1.45 * blocks * k + 0.9  # room for the title above the first row
    fig = Figure(figsize=(1.3 * cols, height))  # no pyplot: a notebook's backend stays untouched
    axes = fig.subplots(blocks * k, cols, squeeze=False)
    fig.subplots_adjust(top=1 - 0.9 / height, hspace=0.55)
    for ax in axes.flat:
        ax.axis("off")
    for j, (eps, images) in enumerate(examples):
        block, col = divmod(j, cols)
        for i in range(k):
            ax = axes[block * k + i, col]
            img = images[i].detach().float().clamp(0, 1).cpu()
            ax.imshow(img[0].numpy() if img.shape[0] == 1 else img.permute(1, 2, 0).numpy(),
                      cmap="gray" if img.shape[0] == 1 else None, vmin=0, vmax=1)
            text = f"eps {eps:.3g}"
            color = "black"
            if predictions is not None:
                pred = int(predictions[j][i])
                text += f"\npred {pred}"
                if labels is not None and pred != int(labels[i]):
                    color = "tab:red"
            ax.set_title(text, fontsize=7, color=color)
    fig.suptitle(title + (f"\n(eps: {eps_unit})" if eps_unit else ""), fontsize=9)
    return save(fig, path)
