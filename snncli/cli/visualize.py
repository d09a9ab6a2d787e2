"""``snn visualize``: figures of a trained run (curves, confusion, weights, spikes, features, masks)."""

from __future__ import annotations

from typing import Any

import typer

from ..config import VisualizeConfig
from .generate import command, options
from .run import files_table, run_analysis

app = typer.Typer()


def visualize_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Draw figures of a trained run into RUN/analysis/ (or --out).

    curves: accuracy and loss per epoch; confusion: test confusion matrix (+ per-class precision/recall/F1 in confusion.json); weights: weight histograms per layer (G2G-masked weights left out); raster: spikes of every layer for one test input; membrane: output membrane traces with the threshold; features: per-layer firing maps for a few inputs; firing: mean firing rate per layer; masks: G2G connectivity (and Flex routing) masks.

    Examples:

      snn visualize all runs/my_run

      snn visualize raster,membrane runs/my_run --index 7
    """
    from ..jobs.visualize import visualize as job  # torch: imported when the command runs

    run_analysis(job, VisualizeConfig, values, config, json_out, lambda r: files_table(r, [
        *[(f"skipped {k}", v) for k, v in r["skipped"].items()],
        *[(f"firing rate {k}", v) for k, v in (r.get("firing_rates") or {}).items()],
        ("test accuracy", (r.get("confusion") or {}).get("accuracy")),
    ]))


command(app, "visualize", visualize_command, options(VisualizeConfig), models=[VisualizeConfig])
