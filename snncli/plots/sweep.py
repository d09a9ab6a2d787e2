"""The sweep summary figure: test accuracy across a grid, as grouped bars (PlasticFlex's accuracy comparison)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from matplotlib import colormaps
from matplotlib.figure import Figure

from ._figure import finish


def accuracy_bars(
    rows: Sequence[dict[str, Any]],
    group_keys: Sequence[str],
    hue_key: str | None,
    path: Path | None = None,
    value_key: str = "test_acc",
    title: str = "Test accuracy across the grid",
    chance: float | None = None,
) -> Figure:
    """Grouped bar chart: one group per combination of ``group_keys``, one bar colour per ``hue_key`` value.

    Missing combinations (invalid or unfinished points) leave a gap; each bar is labelled with
    its value; ``chance`` (1 / classes) is drawn as a dashed line, so a run that learned nothing
    stands out. Written to ``path`` (PNG) when given; the figure is returned.
    """
    def label(r: dict[str, Any], keys: Sequence[str]) -> str:
        if len(keys) == 1:
            return f"{keys[0]}={r.get(keys[0])}"
        return "\n".join(str(r.get(k)) for k in keys) or "all"  # values, one line per setting (named in the x label)

    groups = list(dict.fromkeys(label(r, group_keys) for r in rows))
    hues = list(dict.fromkeys(str(r.get(hue_key)) for r in rows)) if hue_key else [""]
    values: dict[tuple[str, str], float] = {}
    for r in rows:
        v = r.get(value_key)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            values[(label(r, group_keys), str(r.get(hue_key)) if hue_key else "")] = float(v)
    width = 0.8 / max(len(hues), 1)
    n_bars = len(groups) * len(hues)
    fig = Figure(figsize=(min(18.0, max(6.0, 0.32 * n_bars + 3)), 4.5 + 0.25 * len(group_keys)))
    ax = fig.subplots()
    cmap = colormaps["tab10"]
    for j, hue in enumerate(hues):
        xs, ys = [], []
        for i, group in enumerate(groups):
            if (group, hue) in values:
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(values[(group, hue)])
        bars = ax.bar(xs, ys, width * 0.95, label=f"{hue_key}={hue}" if hue_key else None, color=cmap(j % 10))
        ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=6 if n_bars > 12 else 7, padding=1)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, fontsize=7 if len(groups) > 6 else 8)
    ax.set_ylabel(value_key.replace("_", " "))
    if len(group_keys) > 1:
        ax.set_xlabel(" / ".join(group_keys) + "  (top to bottom)", fontsize=8)
    ax.set_ylim(0, max([1.0, *values.values()]) * 1.08)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if chance is not None:
        ax.axhline(chance, ls="--", color="black", lw=1, label=f"chance (1/{round(1 / chance)})")
    if hue_key or chance is not None:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return finish(fig, path)
