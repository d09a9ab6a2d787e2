"""``snn crossval``: stratified k-fold cross-validation of any `snn train` setting."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config import CrossvalConfig
from .generate import command, options
from .options import with_config_file
from .progress import health_cell, stderr, titled_table, warn
from .run import JobProgress, exit_if_failed, run_job

app = typer.Typer()


def _fold_line(fold: dict[str, Any]) -> None:
    if "error" in fold:
        stderr.print(f"[red]fold {fold['fold']} failed[/]: {fold['error']}")
    else:
        stderr.print(f"fold {fold['fold']}: val_acc={fold['val_acc']:.4f} val_loss={fold['val_loss']:.4f} "
                     f"health={health_cell(fold.get('health'))} ({fold['status']})")


def crossval_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Cross-validate a training setting: one resumable run per stratified fold, then mean ± std.

    Every `snn train` option is accepted. Finished folds are skipped when the command is re-run;
    a fold that fails is reported (fold and reason) after the others finish, with exit status 1.

    Examples:

      snn crossval --dataset fashionmnist --model mixer --k-folds 5 --epochs 10 --jobs 2

      snn crossval --model index --executor ray --ray-address auto    # folds as Ray tasks
    """
    from ..jobs.crossval import crossval  # torch: imported when the command runs

    report = run_job(crossval, lambda: CrossvalConfig(**with_config_file(values, config)), json_out, crossval_table,
                     JobProgress(on_item=_fold_line))
    if report["unhealthy"]:
        warn(f"{len(report['unhealthy'])} of {len(report['folds'])} folds are unhealthy (folds "
             f"{', '.join(map(str, report['unhealthy']))}; their result.json says why): their mean ± std is not "
             "the accuracy of a working network")
    exit_if_failed(report["failed"], "fold", "fold")


def crossval_table(report: dict[str, Any]) -> Table:
    table = titled_table(f"{report['k_folds']}-fold cross-validation  ({report['dir']})")
    for col in ("fold", "val_acc", "val_loss", "test_acc", "status", "health"):
        table.add_column(col, justify="left" if col in ("status", "health") else "right")
    for f in report["folds"]:
        table.add_row(str(f["fold"]), f"{f['val_acc']:.4f}", f"{f['val_loss']:.4f}", f"{f['test_acc']:.4f}", f["status"],
                      health_cell(f.get("health")))
    for f in report["failed"]:
        table.add_row(str(f["fold"]), "-", "-", "-", "[red]failed[/]", "")
    s = report["summary"]
    if "val_acc" in s:
        unhealthy = len(report.get("unhealthy", []))
        table.add_row(
            "[bold]mean ± std[/]", f"{s['val_acc']['mean']:.4f} ± {s['val_acc']['std']:.4f}",
            f"{s['val_loss']['mean']:.4f} ± {s['val_loss']['std']:.4f}",
            f"{s['test_acc']['mean']:.4f} ± {s['test_acc']['std']:.4f}", "",
            f"[bold red]{unhealthy} unhealthy[/]" if unhealthy else "",
        )
    return table


command(app, "crossval", crossval_command, options(CrossvalConfig), models=[CrossvalConfig])
