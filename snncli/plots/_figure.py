"""What every figure shares: one style, figures built without pyplot, an atomic save.

Figures are :class:`matplotlib.figure.Figure` objects made directly (no pyplot, no global state, no
backend switch): importing :mod:`snncli.plots` leaves a notebook's backend alone, a figure is
returned to the caller (a notebook shows it), and it is written to a file only when a path is given.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, Sequence

import torch
from matplotlib.figure import Figure

from ..atomic import write_bytes_atomic  # noqa: E402

DPI = 120


def new_figure(panels: int = 1, *, cols: int | None = None, size: tuple[float, float] = (5.0, 3.6),
               **kw: Any) -> tuple[Figure, list]:
    """A figure with ``panels`` axes in a grid (``cols`` per row); returns ``(fig, flat list of axes)``.

    Unused cells of the grid are hidden.
    """
    cols = cols or min(panels, 3)
    rows = (panels + cols - 1) // cols
    fig = Figure(figsize=(size[0] * cols, size[1] * rows))
    axes = fig.subplots(rows, cols, squeeze=False, **kw)
    flat = list(axes.flat)
    for ax in flat[panels:]:
        ax.set_visible(False)
    return fig, flat[:panels]


def save(fig: Figure, path: Path, **savefig: Any) -> Path:
    """Write ``fig`` to ``path`` atomically (:mod:`snncli.atomic`).

    The format follows the suffix (PNG by default); ``savefig`` overrides matplotlib's options.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        buf = io.BytesIO()
        fig.savefig(buf, **{"format": fmt, "dpi": DPI, "bbox_inches": "tight", **savefig})
        write_bytes_atomic(path, buf.getbuffer(), sync=False)
    finally:
        if fig.canvas.manager is not None and "matplotlib.pyplot" in sys.modules:  # a figure pyplot keeps: free it
            sys.modules["matplotlib.pyplot"].close(fig)
    return path


def finish(fig: Figure, path: Path | None) -> Figure:
    """``fig``, written to ``path`` first when one is given."""
    if path is not None:
        save(fig, path)
    return fig


def as_2d(t: torch.Tensor, name: str, what: str = "[T, N]") -> torch.Tensor:
    """``t`` as a float CPU tensor of two dimensions, or a ``ValueError`` naming the expected shape."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a tensor {what}, got {type(t).__name__}")
    if t.dim() != 2:
        raise ValueError(f"{name} must be {what}, got shape {tuple(t.shape)}")
    return t.detach().float().cpu()


def flatten_time(t: torch.Tensor, name: str) -> torch.Tensor:
    """A ``[T, ...]`` sequence as ``[T, N]`` (feature maps and batch flattened into N)."""
    if not isinstance(t, torch.Tensor) or t.dim() < 2:
        shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name} must be a sequence [T, ...] with at least 2 dimensions, got {shape}")
    return t.detach().float().cpu().reshape(t.shape[0], -1)


def short(names: Sequence[str], width: int = 28) -> list[str]:
    """Names cut to ``width`` characters so tick labels stay readable."""
    return [n if len(n) <= width else "…" + n[-(width - 1):] for n in names]
