"""``snn hessian``: top eigenvalues, trace and spectral density of the loss Hessian of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import HessianConfig
from .analysis_common import (
    RUN_HELP,
    Device,
    Out,
    Seed,
    files_table,
    run_command,
)
from .options import ConfigFile, JsonOut, opt

app = typer.Typer()
C = HessianConfig


@app.command("hessian")
def hessian_command(
    run: Annotated[Path, typer.Argument(help=RUN_HELP, show_default=False)],
    batches: Annotated[Optional[int], opt(C, "batches")] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size")] = None,
    top_k: Annotated[Optional[int], opt(C, "top_k", "--top-k")] = None,
    iters: Annotated[Optional[int], opt(C, "iters")] = None,
    tol: Annotated[Optional[float], opt(C, "tol")] = None,
    trace_iters: Annotated[Optional[int], opt(C, "trace_iters", "--trace-iters")] = None,
    density_steps: Annotated[Optional[int], opt(C, "density_steps", "--density-steps")] = None,
    density_runs: Annotated[Optional[int], opt(C, "density_runs", "--density-runs")] = None,
    per_layer: Annotated[Optional[bool], opt(C, "per_layer", "--per-layer")] = None,
    split: Annotated[Optional[str], opt(C, "split")] = None,
    save_eigenvectors: Annotated[Optional[bool], opt(C, "save_eigenvectors", "--save-eigenvectors/--no-save-eigenvectors")] = None,
    protocol: Annotated[Optional[str], opt(C, "protocol")] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Curvature of the loss at the trained weights (PyHessian, through the spiking network).

    Top-k eigenvalues by power iteration, the trace by Hutchinson's estimator, the eigenvalue density by stochastic Lanczos quadrature, all from Hessian-vector products over --batches batches of the --split (fp32; the surrogate is differentiated twice). --protocol seed is the PlasticFlex seed's: 16 random training images, top 5, 100 iterations each, eigenvectors saved. Writes analysis/hessian.json, hessian_density.png (hessian_layers.png with --per-layer, hessian_eigenvectors.npz with --save-eigenvectors).

    Examples:

      snn hessian runs/fashionmnist_mixer_p0.15_T50_current

      snn hessian runs/my_run --batches 4 --top-k 5 --per-layer --json | jq .eigenvalues

      snn hessian runs/my_run --protocol seed
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    from ..jobs.hessian import hessian as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, lambda r: files_table(r, [
        ("top eigenvalues", ", ".join(f"{e:.5g}" for e in r.get("eigenvalues", []))),
        ("trace", r.get("trace")),
        ("Lanczos extremes", ", ".join(f"{e:.5g}" for e in r.get("lanczos_extremes", []))), ("loss", r["loss"]), ("parameters", r["parameters"]),
        *[(f"top eigenvalue {k}", v) for k, v in (r.get("per_layer") or {}).items()],
        ("time_s", r["time_s"]), ("peak_rss_mb", r["peak_rss_mb"]),
    ]))
