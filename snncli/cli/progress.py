"""Turn engine callbacks into terminal output: rich bars on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

stderr = Console(stderr=True, highlight=False)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4f}"
    return str(v)


class TrainProgress:
    """Callbacks for :func:`snncli.engine.train` that report on stderr."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.progress: Progress | None = None
        self.task = None
        self.epochs = 0

    def callbacks(self, cfg: Any):
        """The engine's callbacks for a run of ``cfg`` (anything with ``epochs``)."""
        from ..engine.callbacks import Callbacks  # torch: imported when a command runs

        self.epochs = cfg.epochs
        return Callbacks(
            on_start=self.start, on_epoch_start=self.epoch_start, on_batch=self.batch,
            on_epoch_end=self.epoch_end, on_log=self.log,
        )

    def log(self, msg: str) -> None:
        if not self.quiet:
            stderr.print(msg)

    def start(self, info: dict[str, Any]) -> None:
        if self.quiet:
            return
        stderr.print(
            f"[bold]{info['name']}[/]  device={info['device']} precision={info['precision']}  "
            f"params={info['parameters']:,} connections={info['connections']:,} "
            f"sparsity={info['sparsity']:.3f}  train/val/test={info['train_samples']}/"
            f"{info['val_samples']}/{info['test_samples']}  data={info['data_source']}"
        )
        if self.tty:
            self.progress = Progress(
                TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=stderr, transient=True,
            )
            self.progress.start()

    def epoch_start(self, epoch: int, batches: int) -> None:
        if self.progress is not None:
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task("train", total=batches, epoch=f"{epoch + 1}/{self.epochs}", loss="-")

    def batch(self, i: int, loss: float) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=i + 1, loss=f"{loss:.4f}")

    def epoch_end(self, row: dict[str, Any]) -> None:
        if self.quiet:
            return
        parts = [f"{k}={_fmt(v)}" for k, v in row.items() if k not in ("regularised", "lr")]
        stderr.print("  ".join(parts))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def result_table(result: dict[str, Any], keys: list[str]) -> Table:
    table = Table(show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k in keys:
        if k in result and result[k] is not None:
            table.add_row(k, _fmt(result[k]))
    return table
