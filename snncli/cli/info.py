"""``snn info``: versions, devices, and where data is looked for."""

from __future__ import annotations

import importlib.metadata as md
import json
import platform

import typer
from rich.console import Console
from rich.table import Table

from .options import JsonOut

app = typer.Typer()


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


@app.command("info")
def info_command(json_out: JsonOut = False) -> None:
    """Show versions, the device `--device auto` picks, and where each dataset is looked for."""
    import torch

    from .. import __version__
    from ..data import list_datasets, search_paths
    from ..engine import resolve_device, resolve_precision

    device = resolve_device("auto")
    report = {
        "snncli": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in ("torch", "snntorch", "torchvision", "typer", "pydantic", "rich", "numpy")},
        "device": str(device),
        "cuda_available": torch.cuda.is_available(),
        "precision_auto": resolve_precision("auto", device),
        "threads": torch.get_num_threads(),
        "data_search_paths": {name: [str(p) for p in search_paths(name)] for name in list_datasets()},
    }
    if json_out:
        typer.echo(json.dumps(report))
        return
    console = Console()
    t = Table(show_header=False)
    for k in ("snncli", "python", "platform", "device", "cuda_available", "precision_auto", "threads"):
        t.add_row(k, str(report[k]))
    for p, v in report["packages"].items():
        t.add_row(p, v or "[dim]not installed[/]")
    console.print(t)
    console.print("[bold]Data is looked for in this order:[/]")
    for name, paths in report["data_search_paths"].items():
        console.print(f"  {name}: " + ", ".join(paths) if paths else f"  {name}: generated")
