"""``snn hessian``: top eigenvalues, trace and spectral density of the loss Hessian of a run."""

from __future__ import annotations

from typing import Any

import typer

from ..config import HessianConfig
from .generate import command, options
from .run import files_table, run_analysis

app = typer.Typer()


def hessian_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Curvature of the loss at the trained weights (PyHessian, through the spiking network).

    Top-k eigenvalues by power iteration, the trace by Hutchinson's estimator, the eigenvalue density by stochastic Lanczos quadrature, all from Hessian-vector products over --batches batches of the --split (fp32; the surrogate is differentiated twice). --protocol seed is the PlasticFlex seed's: 16 random training images, top 5, 100 iterations each, eigenvectors saved. Writes analysis/hessian.json, hessian_density.png (hessian_layers.png with --per-layer, hessian_eigenvectors.npz with --save-eigenvectors).

    Examples:

      snn hessian runs/fashionmnist_mixer_p0.15_T50_current

      snn hessian runs/my_run --batches 4 --top-k 5 --per-layer --json | jq .eigenvalues

      snn hessian runs/my_run --protocol seed
    """
    from ..jobs.hessian import hessian as job  # torch: imported when the command runs

    run_analysis(job, HessianConfig, values, config, json_out, lambda r: files_table(r, [
        ("top eigenvalues", ", ".join(f"{e:.5g}" for e in r.get("eigenvalues", []))),
        ("trace", r.get("trace")),
        ("Lanczos extremes", ", ".join(f"{e:.5g}" for e in r.get("lanczos_extremes", []))), ("loss", r["loss"]), ("parameters", r["parameters"]),
        *[(f"top eigenvalue {k}", v) for k, v in (r.get("per_layer") or {}).items()],
        ("time_s", r["time_s"]), ("peak_rss_mb", r["peak_rss_mb"]),
    ]))


command(app, "hessian", hessian_command, options(HessianConfig), models=[HessianConfig])
