"""``snn analyze``: the whole analysis suite on one run, with a Markdown report."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config import AnalyzeConfig
from ..config.analysis import SUITE_PARTS
from .generate import command, options
from .progress import titled_table
from .run import run_analysis

app = typer.Typer()


def suite_table(result: dict) -> Table:
    t = titled_table(result["report"], show_header=True, header_style="bold")
    t.add_column("part")
    t.add_column("status")
    t.add_column("time_s", justify="right")
    for part, r in result["parts"].items():
        status = "FAILED: " + r["error"] if r["status"] == "failed" else r["status"]
        t.add_row(part, status, f"{r.get('time_s', 0):.1f}")
    return t


def analyze_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Run every analysis on a run with small defaults and write analysis/report.md.

    Parts, in order: visualize (all figures), gradflow, attack (PGD, SPSA and random noise), hessian (with per-layer eigenvalues), landscape (2-D, random directions). A part that fails is reported and the others still run; --skip leaves one out (repeatable). --protocol seed runs the attack (PGD over its 23-point grid), Hessian (16 training images, top 5) and landscape (its random plane, 101x101, 3-D figure and GIF) parts as the PlasticFlex seed did; --sample-size, --resolution and --seed given explicitly still apply.

    Examples:

      snn analyze runs/fashionmnist_mixer_p0.15_T50_current

      snn analyze runs/my_run --skip hessian --skip landscape

      snn analyze runs/my_run --protocol seed --resolution 31
    """
    from ..jobs.analyze import analyze as job  # torch: imported when the command runs

    run_analysis(job, AnalyzeConfig, values, config, json_out, suite_table)


__all__ = ["SUITE_PARTS", "analyze_command"]


command(app, "analyze", analyze_command, options(AnalyzeConfig), models=[AnalyzeConfig])
