"""``snn analyze``: the whole analysis suite on one run, with a Markdown report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.table import Table

from ..config import AnalyzeConfig
from ..config.analysis import SUITE_PARTS
from .analysis_common import (
    RUN_HELP,
    Device,
    Out,
    Seed,
    run_command,
)
from .options import ConfigFile, JsonOut, opt

app = typer.Typer()
C = AnalyzeConfig


def suite_table(result: dict) -> Table:
    t = Table(show_header=True, header_style="bold", title=result["report"])
    t.add_column("part")
    t.add_column("status")
    t.add_column("time_s", justify="right")
    for part, r in result["parts"].items():
        status = "FAILED: " + r["error"] if r["status"] == "failed" else r["status"]
        t.add_row(part, status, f"{r.get('time_s', 0):.1f}")
    return t


@app.command("analyze")
def analyze_command(
    run: Annotated[Path, typer.Argument(help=RUN_HELP, show_default=False)],
    skip: Annotated[Optional[List[str]], typer.Option(
        "--skip", help="Part to leave out (repeatable): visualize, gradflow, attack, hessian, landscape.", show_default=False)] = None,
    sample_size: Annotated[Optional[int], opt(C, "sample_size", "--sample-size")] = None,
    eps: Annotated[Optional[List[str]], typer.Option(
        "--eps", help="Attack budget in pixel units; repeatable; fractions accepted (8/255). "
        "\\[default: 0 2/255 4/255 8/255]", show_default=False)] = None,
    steps: Annotated[Optional[int], opt(C, "steps")] = None,
    batches: Annotated[Optional[int], opt(C, "batches")] = None,
    resolution: Annotated[Optional[int], opt(C, "resolution")] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size")] = None,
    protocol: Annotated[Optional[str], opt(C, "protocol")] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Run every analysis on a run with small defaults and write analysis/report.md.

    Parts, in order: visualize (all figures), gradflow, attack (PGD, SPSA and random noise), hessian (with per-layer eigenvalues), landscape (2-D, random directions). A part that fails is reported and the others still run; --skip leaves one out (repeatable). --protocol seed runs the attack (PGD over its 23-point grid), Hessian (16 training images, top 5) and landscape (its random plane, 101x101, 3-D figure and GIF) parts as the PlasticFlex seed did; --sample-size, --resolution and --seed given explicitly still apply.

    Examples:

      snn analyze runs/fashionmnist_mixer_p0.15_T50_current

      snn analyze runs/my_run --skip hessian --skip landscape

      snn analyze runs/my_run --protocol seed --resolution 31
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    from ..jobs.analyze import analyze as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, suite_table)


__all__ = ["SUITE_PARTS", "analyze_command"]
