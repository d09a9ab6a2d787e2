"""``snn visualize``: figures of a trained run (curves, confusion, weights, spikes, features, masks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import VisualizeConfig
from ..config.analysis import VISUALS
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
C = VisualizeConfig


@app.command("visualize")
def visualize_command(
    what: Annotated[str, typer.Argument(help=f"Figure(s), comma-separated: all, {', '.join(VISUALS)}.", show_default=False)],
    run: Annotated[Path, typer.Argument(help=RUN_HELP, show_default=False)],
    samples: Annotated[Optional[int], opt(C, "samples")] = None,
    index: Annotated[Optional[int], opt(C, "index")] = None,
    eval_samples: Annotated[Optional[int], opt(C, "eval_samples", "--eval-samples")] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size")] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Draw figures of a trained run into RUN/analysis/ (or --out).

    curves: accuracy and loss per epoch; confusion: test confusion matrix (+ per-class precision/recall/F1 in confusion.json); weights: weight histograms per layer (G2G-masked weights left out); raster: spikes of every layer for one test input; membrane: output membrane traces with the threshold; features: per-layer firing maps for a few inputs; firing: mean firing rate per layer; masks: G2G connectivity (and Flex routing) masks.

    Examples:

      snn visualize all runs/my_run

      snn visualize raster,membrane runs/my_run --index 7
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out", "what")}
    values["what"] = [w.strip() for w in what.split(",") if w.strip()]
    from ..jobs.visualize import visualize as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, lambda r: files_table(r, [
        *[(f"skipped {k}", v) for k, v in r["skipped"].items()],
        *[(f"firing rate {k}", v) for k, v in (r.get("firing_rates") or {}).items()],
        ("test accuracy", (r.get("confusion") or {}).get("accuracy")),
    ]))
