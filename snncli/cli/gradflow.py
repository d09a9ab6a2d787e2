"""``snn gradflow``: gradient magnitude per layer of a trained run, vanishing/exploding flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..config import GradflowConfig
from .analysis_common import (
    RUN_HELP,
    Device,
    Out,
    Seed,
    run_command,
)
from .options import ConfigFile, JsonOut, opt

app = typer.Typer()
C = GradflowConfig


def gradflow_table(result: dict) -> Table:
    t = Table(show_header=True, header_style="bold", title="gradient per parameter tensor")
    for col in ("tensor", "mean |grad|", "max |grad|", "norm", "flag"):
        t.add_column(col, justify="left" if col in ("tensor", "flag") else "right")
    for r in result["layers"]:
        t.add_row(r["name"], f"{r['mean_abs']:.3e}", f"{r['max_abs']:.3e}", f"{r['norm']:.3e}", r["flag"])
    return t


@app.command("gradflow")
def gradflow_command(
    run: Annotated[Path, typer.Argument(help=RUN_HELP, show_default=False)],
    batches: Annotated[Optional[int], opt(C, "batches")] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size")] = None,
    vanish: Annotated[Optional[float], opt(C, "vanish")] = None,
    explode: Annotated[Optional[float], opt(C, "explode")] = None,
    ratio: Annotated[Optional[float], opt(C, "ratio")] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Mean and max absolute loss gradient of every parameter tensor over a few test batches.

    Flags a tensor vanishing when its mean |grad| is below --vanish or --ratio times below the median tensor, exploding when its max |grad| is above --explode or its mean --ratio times above the median. Writes analysis/gradflow.json, gradflow.csv and gradflow.png.

    Examples:

      snn gradflow runs/my_run

      snn gradflow runs/my_run --batches 8 --json | jq .vanishing
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    from ..jobs.gradflow import gradflow as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, gradflow_table)
