"""The root ``snn`` app: joins one Typer app per command.

Building it imports no torch: each command imports its job when it runs.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import __version__
from . import analyze, attack, backbone, bench, crossval, gradflow, hessian, info, landscape, plasticity, sweep, train, visualize
from .errors import SnnGroup

app = typer.Typer(
    name="snn",
    cls=SnnGroup,
    help="Train, sparsify, attack and analyse spiking neural networks.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
for sub in (train, crossval, plasticity, bench, info, attack, hessian, landscape, gradflow, visualize, analyze):
    app.registered_commands += sub.app.registered_commands
app.add_typer(backbone.app, name="backbone")
app.add_typer(sweep.app, name="sweep")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"snn {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        Optional[bool], typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> None:
    """snn: one toolkit for spiking neural networks (PyTorch + snnTorch)."""


def main() -> None:
    app()
