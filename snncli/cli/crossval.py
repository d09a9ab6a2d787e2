"""``snn crossval``: stratified k-fold cross-validation of any `snn train` setting."""

from __future__ import annotations

import inspect
import json
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..config import CrossvalConfig
from .errors import EXIT_FAILED, user_errors
from .options import opt
from .progress import stderr
from .train import train_command, train_options_to_config

app = typer.Typer()
CV = "Cross-validation"

_EXTRA = {
    "k_folds": Annotated[Optional[int], opt(CrossvalConfig, "k_folds", "--k-folds", "--k_folds", panel=CV)],
    "folds": Annotated[Optional[str], opt(CrossvalConfig, "folds", panel=CV)],
    "jobs": Annotated[Optional[int], opt(CrossvalConfig, "jobs", "--jobs", "-j", panel=CV)],
    "executor": Annotated[Optional[str], opt(CrossvalConfig, "executor", panel=CV)],
    "ray_address": Annotated[Optional[str], opt(CrossvalConfig, "ray_address", "--ray-address", panel=CV)],
    "cpus_per_fold": Annotated[Optional[int], opt(CrossvalConfig, "cpus_per_fold", "--cpus-per-fold", panel=CV)],
}


def crossval_command(**options: Any) -> None:
    """Cross-validate a training setting: one resumable run per fold, then mean ± std (sample std; the seed's population std in --json).

    Every `snn train` option is accepted. Finished folds are skipped when the command is re-run;
    a fold that fails is reported (fold and reason) after the others finish, with exit status 1.

    Examples:

      snn crossval --dataset fashionmnist --model mixer --k-folds 5 --epochs 10 --jobs 2

      snn crossval --model index --executor ray --ray-address auto    # folds as Ray tasks
    """
    from ..engine.crossval import crossval

    cv_values = {k: options.pop(k) for k in _EXTRA}
    config, json_out = options.pop("config"), options.pop("json_out")
    with user_errors():
        cv = CrossvalConfig(**{k: v for k, v in cv_values.items() if v is not None})
        cfg = train_options_to_config(options, config)

        def progress(fold: dict[str, Any]) -> None:
            if "error" in fold:
                stderr.print(f"[red]fold {fold['fold']} failed[/]: {fold['error']}")
            else:
                stderr.print(f"fold {fold['fold']}: val_acc={fold['val_acc']:.4f} val_loss={fold['val_loss']:.4f} ({fold['status']})")

        report = crossval(cfg, cv.k_folds, cv.jobs, on_fold=progress, executor=cv.executor,
                          ray_address=cv.ray_address, cpus_per_fold=cv.cpus_per_fold, folds=cv.folds)
    if json_out:
        typer.echo(json.dumps(report, default=str))
    else:
        Console().print(crossval_table(report))
    for failure in report["failed"]:
        stderr.print(f"snn: error: fold {failure['fold']} failed: {failure['error']}")
    if report["failed"]:
        raise typer.Exit(EXIT_FAILED)


def crossval_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"{report['k_folds']}-fold cross-validation, {report.get('folds_kind', 'stratified')} folds  ({report['dir']})",
                  caption="± is the sample standard deviation (n-1); std_population (n, the seed's) is in --json")
    for col in ("fold", "val_acc", "val_loss", "test_acc", "status"):
        table.add_column(col, justify="right" if col != "status" else "left")
    for f in report["folds"]:
        table.add_row(str(f["fold"]), f"{f['val_acc']:.4f}", f"{f['val_loss']:.4f}", f"{f['test_acc']:.4f}", f["status"])
    for f in report["failed"]:
        table.add_row(str(f["fold"]), "-", "-", "-", "[red]failed[/]")
    s = report["summary"]
    if "val_acc" in s:
        table.add_row(
            "[bold]mean ± sample std[/]", f"{s['val_acc']['mean']:.4f} ± {s['val_acc']['std']:.4f}",
            f"{s['val_loss']['mean']:.4f} ± {s['val_loss']['std']:.4f}",
            f"{s['test_acc']['mean']:.4f} ± {s['test_acc']['std']:.4f}", "",
        )
    return table


_sig = inspect.signature(train_command, eval_str=True)
crossval_command.__signature__ = _sig.replace(parameters=[
    *_sig.parameters.values(),
    *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann) for name, ann in _EXTRA.items()),
])
app.command("crossval")(crossval_command)
