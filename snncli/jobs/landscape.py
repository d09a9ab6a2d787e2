"""``snn landscape``: loss and accuracy on a 1-D or 2-D grid around the trained weights."""

from __future__ import annotations

import time
from typing import TypedDict

import torch

from ..analysis.evaluation import loss_and_accuracy
from ..analysis.hessian import FixedBatches, hessian_spectrum
from ..analysis.landscape import grid_coordinates, loss_surface, random_direction, scaled_to_weights, seed_plane
from ..config import LandscapeConfig
from ..config.protocols import SEED_ANIMATION
from ..engine.writers import write_json, write_npz
from .common import AnalysisCallbacks, adapter, fixed_batches, prepare, use_fp32


class LandscapeResult(TypedDict):
    """What ``snn landscape`` returns (and writes to ``landscape.json``)."""

    run: str
    directions: str
    dims: int
    range: float
    resolution: int
    centre_loss: float
    centre_accuracy: float
    model_loss: float
    model_accuracy: float
    min_loss: float
    max_loss: float
    time_s: float
    files: list[str]


def landscape(cfg: LandscapeConfig, callbacks: AnalysisCallbacks | None = None) -> LandscapeResult:
    """``snn landscape``: loss and accuracy on a 1-D or 2-D grid around the trained weights."""
    from ..plots import (
        animate_landscape,
        plot_landscape_1d,
        plot_landscape_contour,
        plot_landscape_surface,
    )

    cb, device, run, folder = prepare(cfg, callbacks)
    clf = adapter(run, cfg.seed)
    # The seed's surface is measured on one batch of the run's own batch size.
    batch_size = run.cfg.batch_size if cfg.protocol == "seed" and "batch_size" not in cfg.model_fields_set else cfg.batch_size
    draw = "first" if cfg.first_batches else "random"
    data = FixedBatches(fixed_batches(run, cfg.batches, batch_size, cfg.seed, device, cfg.split, draw), clf, cfg.seed)
    n = sum(len(y) for _, y in data.batches)
    cb.on_log(f"{run.checkpoint.stem}: {n} {cfg.split} samples ({'first in file order' if cfg.first_batches else 'seeded draw'}), "
              f"{cfg.resolution ** cfg.dims} grid points, {cfg.directions} directions"
              + (", training mode" if cfg.train_mode else ""))
    params = [p for p in clf.parameters() if p.requires_grad]
    start = time.perf_counter()
    if cfg.directions == "random":
        gen = torch.Generator().manual_seed(cfg.seed)
        directions = [random_direction(clf, params, gen) for _ in range(cfg.dims)]
    elif cfg.directions == "seed":
        directions = seed_plane(params, torch.Generator().manual_seed(cfg.seed))[: cfg.dims]
    else:
        use_fp32(run)
        cb.on_log(f"top {cfg.dims} Hessian eigenvectors ...")
        res = hessian_spectrum(clf, data, device, top_k=cfg.dims, iters=cfg.hessian_iters, parts=("eigenvalues",), seed=cfg.seed)
        directions = [scaled_to_weights(v, params) for v in res["eigenvectors"]]
        cb.on_log("  eigenvalues " + ", ".join(f"{v:.4g}" for v in res["eigenvalues"]))
    coords = grid_coordinates(cfg.range, cfg.resolution)
    name = run.checkpoint.stem
    surface = loss_surface(clf, data, params, directions, coords, train_mode=cfg.train_mode,
                           on_point=lambda done, total: cb.on_progress("landscape", done, total))
    centre = (cfg.resolution // 2,) * cfg.dims
    loss0, acc0 = loss_and_accuracy(clf, data)  # the restored model: must equal the centre
    write_npz(folder / "landscape.npz", coords=surface["coords"].numpy(), loss=surface["loss"].numpy(),
              accuracy=surface["accuracy"].numpy(), directions=cfg.directions, dims=cfg.dims)
    files = [folder / "landscape.npz", folder / "landscape.json"]
    kind = {"random": "filter-normalised random", "hessian": "top Hessian eigenvector", "seed": "the seed's random-plane"}[cfg.directions]
    if cfg.dims == 1:
        files.append(plot_landscape_1d(coords, surface["loss"][:], surface["accuracy"], folder / "landscape_1d.png",
                                       title=f"Loss along a {kind} direction\n{name}"))
    else:
        files.append(plot_landscape_contour(coords, surface["loss"], folder / "landscape_contour.png",
                                            title=f"Loss, {kind} directions\n{name}"))
        files.append(plot_landscape_surface(coords, surface["loss"], folder / "landscape_surface.png",
                                            title=f"Loss surface, {kind} directions\n{name}", smooth=cfg.smooth,
                                            colorbar=True))
        if cfg.gif:
            cb.on_log(f"  animation ({SEED_ANIMATION['frames']} frames) ...")
            files.append(animate_landscape(coords, surface["loss"], folder / "landscape_surface.gif",
                                           title=f"Loss surface, {kind} directions\n{name}", smooth=cfg.smooth,
                                           frames=SEED_ANIMATION["frames"], fps=SEED_ANIMATION["fps"],
                                           elevation=SEED_ANIMATION["elevation"]))
        files.append(plot_landscape_contour(coords, surface["accuracy"], folder / "landscape_accuracy.png",
                                            title=f"Accuracy, {kind} directions\n{name}", label="accuracy"))
    out = {
        "run": str(run.dir), "protocol": cfg.protocol, "directions": cfg.directions, "dims": cfg.dims,
        "range": cfg.range, "resolution": cfg.resolution, "samples": n, "split": cfg.split,
        "train_mode": cfg.train_mode, "smooth": cfg.smooth, "centre_loss": float(surface["loss"][centre]),
        "centre_accuracy": float(surface["accuracy"][centre]), "model_loss": loss0, "model_accuracy": acc0,
        "min_loss": float(surface["loss"].min()), "max_loss": float(surface["loss"].max()),
        "time_s": round(time.perf_counter() - start, 2), "files": [str(f) for f in files],
    }
    write_json(folder / "landscape.json", out)
    return out
