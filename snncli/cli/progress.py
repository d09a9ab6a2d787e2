"""Turn engine callbacks into terminal output: rich bars on a terminal, plain lines in logs.

Output that is piped or redirected is never wrapped: a record is one line however long (``grep``,
``awk`` and log files see whole records), and a table's cells (paths above all) are never folded or
cut. On a terminal, tables fit its width and long cells fold rather than lose characters.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

#: The width of piped output: wide enough that no record or table row is ever wrapped.
PIPE_WIDTH = 100_000


class OutputConsole(Console):
    """A console that wraps to the terminal's width on a terminal, and never when piped (whatever
    ``COLUMNS`` says: it describes a terminal, not a pipe)."""

    def __init__(self, *args: Any, width: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, width=width, **kwargs)
        self._asked_width = width

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._asked_width is None and not self.is_terminal:
            return ConsoleDimensions(PIPE_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size
        self._asked_width = new_size[0]


stderr = OutputConsole(stderr=True, highlight=False)


def stdout() -> OutputConsole:
    """A console on the current ``sys.stdout`` (results, tables)."""
    return OutputConsole(highlight=False)


def progress_bar(*columns: Any) -> Progress:
    """A transient stderr bar: ``columns``, the bar, done/total, then labelled elapsed and remaining time."""
    return Progress(
        *columns, BarColumn(bar_width=24), MofNCompleteColumn(), TextColumn("[dim]elapsed[/]"), TimeElapsedColumn(),
        TextColumn("[dim]left[/]"), TimeRemainingColumn(), console=stderr, transient=True,
    )


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4f}"
    return str(v)


def warn(msg: str) -> None:
    """A warning line on stderr (something about a result looks wrong)."""
    stderr.print(f"[yellow]warning:[/] {msg}", markup=True, highlight=False) if stderr.is_terminal \
        else stderr.print(f"warning: {msg}", markup=False)


def health_cell(health: dict[str, Any] | None) -> str:
    """A run's ``health`` as a table cell: ``ok``, ``?`` (not recorded), or what is wrong, in red."""
    from ..engine.health import health_label  # the engine package imports torch: only when a command runs

    label = health_label(health)
    return label if label in ("ok", "?") else f"[bold red]{label}[/]"


class TrainProgress:
    """Callbacks for :func:`snncli.engine.train` that report on stderr: a line per epoch, warnings,
    and on a terminal a bar for the epoch's batches and one for each evaluation."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.progress: Progress | None = None
        self.task = None
        self.phases: dict[str, Any] = {}
        self.epochs = 0

    def callbacks(self, cfg: Any):
        """The engine's callbacks for a run of ``cfg`` (anything with ``epochs``)."""
        from ..engine.callbacks import Callbacks  # torch: imported when a command runs

        self.epochs = cfg.epochs
        return Callbacks(
            on_start=self.start, on_epoch_start=self.epoch_start, on_batch=self.batch,
            on_epoch_end=self.epoch_end, on_log=self.log, on_warning=self.warning, on_progress=self.phase,
        )

    def log(self, msg: str) -> None:
        if not self.quiet:
            stderr.print(msg, markup=False)

    def warning(self, msg: str) -> None:
        warn(msg)

    def start(self, info: dict[str, Any]) -> None:
        if self.quiet:
            return
        stderr.print(
            f"{info['name']}  device={info['device']} precision={info['precision']}  "
            f"params={info['parameters']:,} connections={info['connections']:,} "
            f"sparsity={info['sparsity']:.3f}  train/val/test={info['train_samples']}/"
            f"{info['val_samples']}/{info['test_samples']}  data={info['data_source']}", markup=False,
        )
        if stderr.is_terminal:
            self.progress = progress_bar(TextColumn("{task.description}"), TextColumn("{task.fields[loss]}"))
            self.progress.start()

    def epoch_start(self, epoch: int, batches: int) -> None:
        if self.progress is not None:
            if self.task is not None:
                self.progress.remove_task(self.task)
            self.task = self.progress.add_task(f"epoch {epoch + 1}/{self.epochs}", total=batches, loss="loss -")

    def batch(self, i: int, loss: float) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=i + 1, loss=f"loss {loss:.4f}")

    def phase(self, name: str, done: int, total: int) -> None:
        """A phase of an epoch beside the batches (``evaluate test``): its own bar while it runs."""
        if self.progress is None:
            return
        if name not in self.phases:
            self.phases[name] = self.progress.add_task(name, total=total, loss="")
        self.progress.update(self.phases[name], completed=done, total=total)
        if done >= total:
            self.progress.remove_task(self.phases.pop(name))

    def epoch_end(self, row: dict[str, Any]) -> None:
        if self.quiet:
            return
        parts = [f"{k}={_fmt(v)}" for k, v in row.items() if k not in ("regularised", "lr")]
        stderr.print("  ".join(parts), markup=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def titled_table(title: str, **kwargs: Any) -> Table:
    """A table whose title (often a path) is never wrapped mid-word where the output has room for it
    (piped: always; on a terminal: up to its width)."""
    return Table(title=title, min_width=len(title), **kwargs)


def result_table(result: dict[str, Any], keys: list[str]) -> Table:
    table = Table(show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right", overflow="fold")
    for k in keys:
        if k in result and result[k] is not None:
            table.add_row(k, _fmt(result[k]))
    return table
