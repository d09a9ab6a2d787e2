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


def _first_existing(paths) -> str | None:
    return next((str(p) for p in paths if p.is_dir() and any(p.iterdir())), None)


@app.command("info")
def info_command(json_out: JsonOut = False) -> None:
    """Show versions, the device `--device auto` picks, and where each dataset is looked for."""
    import torch

    from .._version import __version__
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
        "data_found": {name: _first_existing(search_paths(name)) for name in list_datasets()},
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
    console.print("[bold]Data[/] (looked for in --data-root, $SNN_DATA, the user cache, then system copies):")
    for name, paths in report["data_search_paths"].items():
        found = report["data_found"][name]
        if not paths:
            console.print(f"  [green]{name}[/]: generated, no files needed")
        elif found:
            console.print(f"  [green]{name}[/]: found in {found}")
        else:
            console.print(f"  [yellow]{name}[/]: not found; looked in {', '.join(paths)}", soft_wrap=True)
