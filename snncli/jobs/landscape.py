"""``snn landscape``: loss and accuracy on a 1-D or 2-D grid around the trained weights."""

from __future__ import annotations

import time
from typing import Any

import torch

from ..analysis.evaluation import loss_and_accuracy
from ..analysis.hessian import FixedBatches, hessian_spectrum
from ..analysis.landscape import grid_coordinates, loss_surface, random_direction, scaled_to_weights
from ..config import LandscapeConfig
from ..engine.writers import write_json, write_npz
from .common import AnalysisCallbacks, adapter, fixed_batches, prepare, use_fp32


def landscape(cfg: LandscapeConfig, callbacks: AnalysisCallbacks | None = None) -> dict[str, Any]:
    """``snn landscape``: loss and accuracy on a 1-D or 2-D grid around the trained weights."""
    from ..plots import (
        plot_landscape_1d,
        plot_landscape_contour,
        plot_landscape_surface,
    )

    cb, device, run, folder = prepare(cfg, callbacks)
    clf = adapter(run, cfg.seed)
    data = FixedBatches(fixed_batches(run, cfg.batches, cfg.batch_size, cfg.seed, device), clf, cfg.seed)
    params = [p for p in clf.parameters() if p.requires_grad]
    start = time.perf_counter()
    if cfg.directions == "random":
        gen = torch.Generator().manual_seed(cfg.seed)
        directions = [random_direction(clf, params, gen) for _ in range(cfg.dims)]
    else:
        use_fp32(run)
        cb.on_log(f"top {cfg.dims} Hessian eigenvectors ...")
        res = hessian_spectrum(clf, data, device, top_k=cfg.dims, iters=cfg.hessian_iters, parts=("eigenvalues",), seed=cfg.seed)
        directions = [scaled_to_weights(v, params) for v in res["eigenvectors"]]
        cb.on_log("  eigenvalues " + ", ".join(f"{v:.4g}" for v in res["eigenvalues"]))
    coords = grid_coordinates(cfg.range, cfg.resolution)
    name = run.checkpoint.stem
    surface = loss_surface(clf, data, params, directions, coords,
                           on_point=lambda done, total: cb.on_progress("landscape", done, total))
    centre = (cfg.resolution // 2,) * cfg.dims
    loss0, acc0 = loss_and_accuracy(clf, data)  # the restored model: must equal the centre
    write_npz(folder / "landscape.npz", coords=surface["coords"].numpy(), loss=surface["loss"].numpy(),
              accuracy=surface["accuracy"].numpy(), directions=cfg.directions, dims=cfg.dims)
    files = [folder / "landscape.npz", folder / "landscape.json"]
    kind = "filter-normalised random" if cfg.directions == "random" else "top Hessian eigenvector"
    if cfg.dims == 1:
        files.append(plot_landscape_1d(coords, surface["loss"][:], surface["accuracy"], folder / "landscape_1d.png",
                                       title=f"Loss along a {kind} direction\n{name}"))
    else:
        files.append(plot_landscape_contour(coords, surface["loss"], folder / "landscape_contour.png",
                                            title=f"Loss, {kind} directions\n{name}"))
        files.append(plot_landscape_surface(coords, surface["loss"], folder / "landscape_surface.png",
                                            title=f"Loss surface, {kind} directions\n{name}"))
        files.append(plot_landscape_contour(coords, surface["accuracy"], folder / "landscape_accuracy.png",
                                            title=f"Accuracy, {kind} directions\n{name}", label="accuracy"))
    out = {
        "run": str(run.dir), "directions": cfg.directions, "dims": cfg.dims, "range": cfg.range,
        "resolution": cfg.resolution, "centre_loss": float(surface["loss"][centre]),
        "centre_accuracy": float(surface["accuracy"][centre]), "model_loss": loss0, "model_accuracy": acc0,
        "min_loss": float(surface["loss"].min()), "max_loss": float(surface["loss"].max()),
        "time_s": round(time.perf_counter() - start, 2), "files": [str(f) for f in files],
    }
    write_json(folder / "landscape.json", out)
    return out
