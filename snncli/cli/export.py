"""``snn export``: a trained run's network for other simulators and neuromorphic hardware."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config import ExportConfig
from .generate import command, options
from .run import run_analysis

app = typer.Typer()


def export_table(result: dict) -> Table:
    t = Table(show_header=True, header_style="bold", title=result["file"])
    for col in ("layer", "inputs", "neurons", "connections", "neuron node"):
        t.add_column(col, justify="left" if col in ("layer", "neuron node") else "right")
    for i, r in enumerate(result["layers"]):
        t.add_row(str(i), str(r["inputs"]), str(r["neurons"]), str(r["connections"]), r["node"])
    return t


def export_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Write a trained run's network in an exchange format, without its dataset.

    nir: the Neuromorphic Intermediate Representation (needs pip install 'snncli\\[nir]'), read by snnTorch, Norse, SpikingJelly, Lava and neuromorphic hardware tool chains. The spiking MLPs (mlp, dense and the G2G variants) export as Affine + LIF nodes per layer, masks folded into the weights, beta and threshold per neuron; conv models are refused, naming the layers NIR lacks. NIR's LIF resets to zero where snn subtracts the threshold: see docs/export.md. Writes RUN/export/<name>.nir.

    Examples:

      snn export runs/my_run

      snn export runs/my_run --format nir --out exported/ --json
    """
    from ..jobs.export import export as job  # torch: imported when the command runs

    run_analysis(job, ExportConfig, values, config, json_out, export_table)


command(app, "export", export_command, options(ExportConfig), models=[ExportConfig])
