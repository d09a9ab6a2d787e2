"""``snn gradflow``: gradient magnitude per layer of a trained run, vanishing/exploding flagged."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config import GradflowConfig
from .generate import command, options
from .progress import titled_table
from .run import run_analysis

app = typer.Typer()


def gradflow_table(result: dict) -> Table:
    t = titled_table("gradient per parameter tensor", show_header=True, header_style="bold")
    for col in ("tensor", "mean |grad|", "max |grad|", "norm", "flag"):
        t.add_column(col, justify="left" if col in ("tensor", "flag") else "right")
    for r in result["layers"]:
        t.add_row(r["name"], f"{r['mean_abs']:.3e}", f"{r['max_abs']:.3e}", f"{r['norm']:.3e}", r["flag"])
    return t


def gradflow_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Mean and max absolute loss gradient of every parameter tensor over a few test batches.

    Flags a tensor vanishing when its mean |grad| is below --vanish or --ratio times below the median tensor, exploding when its max |grad| is above --explode or its mean --ratio times above the median. Writes analysis/gradflow.json, gradflow.csv and gradflow.png.

    Examples:

      snn gradflow runs/my_run

      snn gradflow runs/my_run --batches 8 --json | jq .vanishing
    """
    from ..jobs.gradflow import gradflow as job  # torch: imported when the command runs

    run_analysis(job, GradflowConfig, values, config, json_out, gradflow_table)


command(app, "gradflow", gradflow_command, options(GradflowConfig), models=[GradflowConfig])
