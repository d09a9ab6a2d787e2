"""The root ``snn`` app. Each command lives in its own module (``snncli.cli.train``...), imported only when
that command runs, shows its help or completes a value: ``snn train --help`` builds the train command and
no other (no torch, no other command's pydantic models); ``snn --help`` and ``snn <TAB>`` read the table
below. ``tests/cli/test_lazy_commands.py`` checks the table against the modules.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand

from .._version import __version__
from .errors import SnnGroup

#: command -> (module under snncli.cli, the first paragraph of its help), in the order ``snn --help`` lists.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "Train a spiking network; re-running the same command resumes it, a finished one is returned."),
    "dst": ("train", "Dynamic sparse training: `snn train --sparsity dynamic`, the same run and code path."),
    "crossval": ("crossval", "Cross-validate a training setting: one resumable run per fold, then mean ± sample std "
                 "(population std in --json)."),
    "plasticity": ("plasticity", "Train the seed's 784-512-10 LIF network, then change it with an unsupervised local "
                   "rule; write the seed's files."),
    "bench": ("bench", "Measure training/inference throughput and peak memory, snn vs. the snnTorch per-step loop\n"
              "(and SpikingJelly / Norse twins with --against), same weights and batch, repeats in turn."),
    "info": ("info", "Show versions, which optional dependencies import, the device `--device auto` picks, and where "
             "each dataset is looked for."),
    "attack": ("attack", "Attack trained runs and report accuracy at every budget eps (L-inf, pixel units) and the area "
               "under the curve."),
    "hessian": ("hessian", "Curvature of the loss at the trained weights (PyHessian, through the spiking network)."),
    "landscape": ("landscape", "Loss and accuracy on a grid around the trained weights (Li et al., 2018)."),
    "gradflow": ("gradflow", "Mean and max absolute loss gradient of every parameter tensor over a few test batches."),
    "visualize": ("visualize", "Draw figures of a trained run into RUN/analysis/ (or --out)."),
    "analyze": ("analyze", "Run every analysis on a run with small defaults and write analysis/report.md."),
    "export": ("export", "Write a trained run's network in an exchange format, without its dataset."),
    "backbone": ("backbone", "The frozen ResNet-32 feature extractor for CIFAR runs (--use-resnet)."),
    "sweep": ("sweep", "Train a grid of settings (`snn sweep [GRID_FILE] --grid K=V1,V2 ...`), or summarise one "
              "(`snn sweep summarize DIR`)."),
}
GROUPS = ("backbone", "sweep")  # modules whose whole app is the command (subcommands of their own)


def load_command(name: str) -> Any:
    """The click command ``name``, built from its module (imported now)."""
    module = importlib.import_module(f"snncli.cli.{COMMANDS[name][0]}")
    group = typer.main.get_group(module.app)
    if name in GROUPS:
        group.name = name
        return group
    return group.commands[name]


class _LazyRoot(SnnGroup):
    """``snn``: resolves a command by importing its module; lists and completes commands from :data:`COMMANDS`."""

    listing = False  # while ``snn --help`` or completion lists the commands: stand-ins, no imports

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        if self.listing:
            return TyperCommand(name, help=COMMANDS[name][1])
        self.commands[name] = load_command(name)
        return self.commands[name]

    def _listing(self, method: str, *args: Any) -> Any:
        self.listing = True
        try:
            return getattr(super(), method)(*args)
        finally:
            self.listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        return self._listing("format_help", ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        return self._listing("shell_complete", ctx, incomplete)


app = typer.Typer(
    name="snn",
    cls=_LazyRoot,
    help="Train, sparsify, attack and analyse spiking neural networks.",
    no_args_is_help=True,
    # Every option also reads SNN_<COMMAND>_<OPTION> (e.g. SNN_TRAIN_EPOCHS=3, SNN_ATTACK_DEVICE=cuda:1);
    # a flag on the command line wins. Provenance records the SNN_* variables that were set.
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "SNN"},
    pretty_exceptions_enable=False,
)


def command_tree() -> Any:
    """The root click group with every command loaded (tests and docs walk it; ``snn`` itself never does)."""
    root = typer.main.get_command(app)
    for name in COMMANDS:
        root.get_command(None, name)
    return root


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
