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


#: Optional dependencies: import name -> (distribution, what needs it, install line).
OPTIONAL = {
    "torchvision": ("torchvision", "class-per-folder datasets (ImageNet layout)", "pip install 'snncli[vision]'"),
    "torchattacks": ("torchattacks", "snn attack's torchattacks attacks (fgsm, pgd, apgd, cw, square)", "pip install 'snncli[attack]'"),
    "pyhessian": ("pyhessian", "nothing in snn (snn hessian computes it itself); a reference for comparisons", "pip install pyhessian"),
    "ray": ("ray", "--executor ray in snn sweep and snn crossval", "pip install 'snncli[ray]'"),
    "nir": ("nir", "snn export --format nir", "pip install 'snncli[nir]'"),
    "nirtorch": ("nirtorch", "NIR files executed in torch (snnTorch's import_from_nir)", "pip install 'snncli[nir]'"),
    "tensorboard": ("tensorboard", "--logger tensorboard", "pip install 'snncli[tensorboard]'"),
}


def _importable(module: str) -> tuple[bool, str | None]:
    """Whether ``module`` imports here (a package can be installed and still fail to import, e.g.
    a CUDA torchvision beside a CPU torch); the first line of the error when it does not."""
    import importlib

    try:
        importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable", reported as it is
        return False, (f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")[:200]
    return True, None


def optional_report() -> dict[str, dict]:
    """Per optional dependency: version installed (or None), whether it imports, the error, what needs it."""
    report = {}
    for module, (dist, needed_by, install) in OPTIONAL.items():
        version = _version(dist)
        ok, error = _importable(module) if version else (False, None)
        report[module] = {"version": version, "importable": ok, "error": error, "needed_by": needed_by,
                          "install": install}
    return report


def _first_existing(paths) -> str | None:
    return next((str(p) for p in paths if p.is_dir() and any(p.iterdir())), None)


@app.command("info")
def info_command(json_out: JsonOut = False) -> None:
    """Show versions, which optional dependencies import, the device `--device auto` picks, and where each dataset is looked for."""
    import torch

    from .._version import __version__
    from ..data import list_datasets, search_paths
    from ..engine import resolve_device, resolve_precision
    from ..engine.device import distributed_backends, visible_gpus

    device = resolve_device("auto")
    report = {
        "snncli": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in ("torch", "snntorch", "typer", "pydantic", "rich", "numpy")},
        "optional": optional_report(),
        "device": str(device),
        "cuda_available": torch.cuda.is_available(),
        "gpus": visible_gpus(),
        "distributed_backends": distributed_backends(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
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
    t.add_row("gpus", "; ".join(f"cuda:{g['index']} {g['name']} ({g['memory_gib']} GiB)" for g in report["gpus"]) or "none")
    t.add_row("distributed", ", ".join(report["distributed_backends"]) or "[dim]not in this torch build[/]")
    for p, v in report["packages"].items():
        t.add_row(p, v or "[dim]not installed[/]")
    for p, o in report["optional"].items():
        if o["importable"]:
            state = f"{o['version']}"
        elif o["version"]:
            state = f"[yellow]{o['version']} installed but not importable[/] ({o['error']})"
        else:
            state = f"[dim]not installed[/] (for {o['needed_by']}: {o['install']})"
        t.add_row(p, state)
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
