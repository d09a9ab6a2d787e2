"""Hessian spectrum and loss-landscape figures."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch

from ..atomic import write_bytes_atomic
from ._figure import new_figure, save, short


def plot_spectral_density(
    grid: torch.Tensor, density: torch.Tensor, path: Path, title: str = "Hessian eigenvalue density",
    eigenvalues: Sequence[float] = (), nodes: Sequence[float] = (),
) -> Path:
    """The smoothed eigenvalue density (log scale), the top eigenvalues as vertical lines,
    the Lanczos Ritz values as ticks along the bottom.

    Raises:
        ValueError: ``grid`` and ``density`` of different lengths.
    """
    if grid.shape != density.shape or grid.dim() != 1:
        raise ValueError(f"grid and density must be 1-D of one length, got {tuple(grid.shape)} and {tuple(density.shape)}")
    fig, (ax,) = new_figure(1, size=(7.0, 4.2))
    d = density.clamp(min=1e-12).numpy()
    ax.semilogy(grid.numpy(), d, color="tab:blue", lw=1.5, label="density (Gaussian-smoothed SLQ)")
    for i, e in enumerate(eigenvalues):
        ax.axvline(e, color="tab:red", ls="--", lw=1, label="top eigenvalues" if i == 0 else None)
    bottom = max(d.min(), d.max() * 1e-8)
    if len(nodes):
        ax.plot(list(nodes), [bottom * 3] * len(nodes), "|", color="black", ms=12, mew=1.5, label="Ritz values")
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density (log)")
    ax.set_ylim(bottom, d.max() * 3)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_layer_eigenvalues(values: Mapping[str, float], path: Path, title: str = "Top Hessian eigenvalue per layer") -> Path:
    """Bar chart of each layer's top eigenvalue (its diagonal block of the Hessian)."""
    if not values:
        raise ValueError("no per-layer eigenvalues to plot")
    names, vals = list(values), [float(v) for v in values.values()]
    fig, (ax,) = new_figure(1, size=(max(5.0, 1.0 * len(names) + 2), 4.0))
    bars = ax.bar(range(len(names)), vals, color="tab:red")
    ax.bar_label(bars, labels=[f"{v:.3g}" for v in vals], fontsize=8)
    ax.set_xticks(range(len(names)), short(names, 18))
    ax.set_ylabel("top eigenvalue")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)


def plot_landscape_1d(coords: torch.Tensor, loss: torch.Tensor, accuracy: torch.Tensor, path: Path, title: str = "Loss along one direction") -> Path:
    """Loss (left axis) and accuracy (right axis) along one direction; the trained point at 0."""
    if coords.dim() != 1 or loss.shape != coords.shape or accuracy.shape != coords.shape:
        raise ValueError("1-D landscape: coords, loss and accuracy must be 1-D of one length")
    fig, (ax,) = new_figure(1, size=(6.5, 4.0))
    ax.plot(coords.numpy(), loss.numpy(), color="tab:blue", marker="o", ms=3, label="loss")
    ax.set_xlabel("step along the direction (a)")
    ax.set_ylabel("loss", color="tab:blue")
    ax.axvline(0, color="grey", lw=0.8, ls=":")
    ax2 = ax.twinx()
    ax2.plot(coords.numpy(), accuracy.numpy(), color="tab:orange", marker="s", ms=3, label="accuracy")
    ax2.set_ylabel("accuracy", color="tab:orange")
    ax2.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save(fig, path)


def _check_2d(coords, z):
    if coords.dim() != 1 or z.shape != (len(coords), len(coords)):
        raise ValueError(f"2-D landscape: values must be [R, R] for R={len(coords)} coordinates, got {tuple(z.shape)}")


def plot_landscape_contour(coords: torch.Tensor, z: torch.Tensor, path: Path, title: str = "Loss landscape", label: str = "loss") -> Path:
    """Filled contours of a 2-D surface (first direction on x), the trained point marked."""
    _check_2d(coords, z)
    fig, (ax,) = new_figure(1, size=(5.6, 4.6))
    a = coords.numpy()
    zz = z.numpy().T  # rows: second direction (y)
    levels = 20
    if label == "loss":
        zz = np.log10(np.clip(zz, 1e-12, None))
        label = "log10 loss"
    cs = ax.contourf(a, a, zz, levels=levels, cmap="viridis")
    ax.contour(a, a, zz, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label=label)
    ax.plot([0], [0], marker="*", color="red", ms=12, label="trained weights")
    ax.set_xlabel("direction 1 (a)")
    ax.set_ylabel("direction 2 (b)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return save(fig, path)


def smooth_surface(z: np.ndarray, sigma: float) -> np.ndarray:
    """``z`` convolved with a Gaussian of ``sigma`` grid steps, edges mirrored (half-sample), truncated at
    4 sigma: what ``scipy.ndimage.gaussian_filter(z, sigma)`` computes, for display only."""
    z = np.asarray(z, dtype=np.float64)
    if sigma <= 0:
        return z
    radius = int(4.0 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in range(z.ndim):
        pad = [(0, 0)] * z.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(z, pad, mode="symmetric")
        z = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), axis, padded)
    return z


def _wide_range(z: np.ndarray) -> bool:
    """A loss that spans more than three decades (a 3-D view on a linear axis shows one corner only)."""
    top, low = float(np.max(z)), float(np.min(z))
    return low >= 0 and top > 0 and top > 1e3 * max(low, 1e-12)


def _surface_axes(fig, coords: torch.Tensor, z: torch.Tensor, label: str, smooth: float):
    a, b = np.meshgrid(coords.numpy(), coords.numpy(), indexing="ij")
    zz = smooth_surface(z.numpy(), smooth)
    if label == "loss" and _wide_range(zz):
        zz, label = np.log10(np.clip(zz, 1e-12, None)), "log10 loss"
    ax = fig.add_subplot(projection="3d")
    surf = ax.plot_surface(a, b, zz, cmap="viridis", linewidth=0, antialiased=True, alpha=0.95)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))  # fewer ticks: 3-D tick labels overlap easily
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel("direction 1 (a)")
    ax.set_ylabel("direction 2 (b)")
    ax.set_zlabel(label)
    return ax, surf


def plot_landscape_surface(coords: torch.Tensor, z: torch.Tensor, path: Path, title: str = "Loss surface",
                           label: str = "loss", smooth: float = 0.0, colorbar: bool = False) -> Path:
    """A 3-D surface of a 2-D grid; ``smooth`` > 0 draws it Gaussian-smoothed by that many grid steps
    (the seed smooths by 1 before drawing; the saved numbers are never smoothed). A loss spanning
    more than three decades is drawn as log10 (a linear axis would show only its highest corner)."""
    _check_2d(coords, z)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0 if colorbar else 6.5, 5.0))  # no pyplot: a notebook's backend stays untouched
    ax, surf = _surface_axes(fig, coords, z, label, smooth)
    if colorbar:
        fig.colorbar(surf, ax=ax, shrink=0.5, aspect=8, pad=0.12, label=ax.get_zlabel())
    ax.set_title(title + (f"\n(drawn smoothed, Gaussian sigma {smooth:g} grid steps)" if smooth > 0 else ""))
    return save(fig, path)


def animate_landscape(coords: torch.Tensor, z: torch.Tensor, path: Path, title: str = "Loss surface",
                      label: str = "loss", smooth: float = 0.0, frames: int = 120, fps: int = 30,
                      elevation: float = 30.0, dpi: int = 80) -> Path:
    """An animated GIF of the 3-D surface turning once around its vertical axis (the seed's
    ``loss_surface.gif``: 120 frames at 30 frames per second, elevation 30 degrees), written atomically.

    Raises:
        ValueError: ``frames`` < 2 or ``fps`` < 1, or values not ``[R, R]``.
    """
    _check_2d(coords, z)
    if frames < 2 or fps < 1:
        raise ValueError(f"an animation needs at least 2 frames and 1 frame per second, got {frames} and {fps}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    fig = Figure(figsize=(6.4, 4.8), dpi=dpi)  # no pyplot; frames rendered by Agg directly
    canvas = FigureCanvasAgg(fig)
    ax, _ = _surface_axes(fig, coords, z, label, smooth)
    ax.set_title(title)
    images = []
    for azimuth in np.linspace(0.0, 360.0, frames, endpoint=False):
        ax.view_init(elev=elevation, azim=azimuth)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    path = Path(path)
    write_bytes_atomic(path, buf.getbuffer(), sync=False)
    return path
