"""What every figure shares: the headless backend, one style, an atomic save."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")  # headless: never open a window, never need a display

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ..atomic import write_bytes_atomic  # noqa: E402

DPI = 120


def new_figure(panels: int = 1, *, cols: int | None = None, size: tuple[float, float] = (5.0, 3.6), **kw: Any):
    """A figure with ``panels`` axes in a grid (``cols`` per row); returns ``(fig, flat list of axes)``.

    Unused cells of the grid are hidden.
    """
    cols = cols or min(panels, 3)
    rows = (panels + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False, **kw)
    flat = list(axes.flat)
    for ax in flat[panels:]:
        ax.set_visible(False)
    return fig, flat[:panels]


def save(fig, path: Path, **savefig: Any) -> Path:
    """Write ``fig`` to ``path`` atomically (:mod:`snncli.atomic`) and close it.

    The format follows the suffix (PNG by default); ``savefig`` overrides matplotlib's options.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        buf = io.BytesIO()
        fig.savefig(buf, **{"format": fmt, "dpi": DPI, "bbox_inches": "tight", **savefig})
        write_bytes_atomic(path, buf.getbuffer(), sync=False)
    finally:
        plt.close(fig)
    return path


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
