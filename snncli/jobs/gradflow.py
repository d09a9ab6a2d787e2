"""``snn gradflow``: gradient magnitude of every parameter tensor, flagged, plotted."""

from __future__ import annotations

import time
from typing import Any, TypedDict

from ..analysis.gradflow import gradient_flow
from ..analysis.hessian import FixedBatches
from ..config import GradflowConfig
from ..engine.writers import write_csv, write_json
from .common import AnalysisCallbacks, adapter, fixed_batches, prepare


class GradflowResult(TypedDict, total=False):
    """What ``snn gradflow`` returns (and writes to ``gradflow.json``)."""

    run: str
    layers: list[dict[str, Any]]  # name, mean_abs, max_abs, norm, flag, ...
    vanishing: list[str]
    exploding: list[str]
    thresholds: dict[str, float]
    time_s: float
    files: list[str]


def gradflow(cfg: GradflowConfig, callbacks: AnalysisCallbacks | None = None) -> GradflowResult:
    """``snn gradflow``: gradient magnitude of every parameter tensor, flagged, plotted."""
    from ..plots import plot_gradient_flow

    cb, device, run, folder = prepare(cfg, callbacks)
    clf = adapter(run, cfg.seed)
    batches = fixed_batches(run, cfg.batches, cfg.batch_size, cfg.seed, device)
    start = time.perf_counter()
    res = gradient_flow(clf, FixedBatches(batches, clf, cfg.seed), cfg.vanish, cfg.explode, cfg.ratio,
                        on_batch=lambda i: cb.on_progress("gradflow", i + 1, len(batches)))
    plot = folder / "gradflow.png"
    plot_gradient_flow(res["layers"], plot, title=f"Gradient flow ({len(batches)} batches of {cfg.batch_size} test "
                       f"samples)\n{run.checkpoint.stem}", thresholds=res["thresholds"])
    out = {"run": str(run.dir), **res, "time_s": round(time.perf_counter() - start, 2),
           "files": [str(folder / "gradflow.json"), str(folder / "gradflow.csv"), str(plot)]}
    write_csv(folder / "gradflow.csv", [{k: v for k, v in r.items() if k != "shape"} for r in res["layers"]])
    write_json(folder / "gradflow.json", out)
    return out
