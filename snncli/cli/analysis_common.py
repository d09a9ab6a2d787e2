"""What the analysis commands share: the run argument, errors, progress on stderr, output."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .errors import fail

stderr = Console(stderr=True, highlight=False)

Device = typer.Option("--device", help="auto picks CUDA, then MPS, then DirectML, then CPU. \\[default: auto]", show_default=False)
Seed = typer.Option("--seed", help="Seed of the samples drawn, directions and attack noise. \\[default: 0]", show_default=False)
Out = typer.Option("--out", "-o", help="Folder for the outputs. \\[default: RUN/analysis]", show_default=False)
RUN_HELP = "Run folder (runs/<name>/) or checkpoint (.pth) written by snn train."


@contextmanager
def analysis_errors() -> Iterator[None]:
    """Unreadable runs and unusable settings: one line, exit 2 (no traceback, nothing to resume).

    Inside :func:`user_errors`, it answers first: a checkpoint error here needs no ``--force`` hint.
    """
    from ..engine import CheckpointError
    from ..jobs.common import AnalysisInputError

    try:
        yield
    except (CheckpointError, AnalysisInputError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("snn: interrupted; outputs finished so far are in the analysis folder", err=True)
        sys.exit(130)


class AnalysisProgress:
    """Engine callbacks -> stderr: log lines always, a transient bar on a terminal."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}

    def callbacks(self):
        from ..jobs.common import AnalysisCallbacks

        return AnalysisCallbacks(on_log=self.log, on_progress=self.update)

    def log(self, msg: str) -> None:
        stderr.print(msg, markup=False)

    def update(self, task: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.progress is None:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=stderr, transient=True)
            self.progress.start()
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        self.progress.update(self.tasks[task], completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def run_command(job, model, values: dict, config: Optional[Path], json_out: bool, table=None) -> dict:
    """The body of every analysis command: validate ``values`` (over ``--config``) into ``model``,
    run ``job(cfg, callbacks)``, report. Bad input and unusable runs exit 2 with one line."""
    from .errors import user_errors

    with user_errors(), analysis_errors():
        cfg = model(**merge(values, config))
        return run_job(job, cfg, json_out, table)


def run_job(job, cfg, json_out: bool, table=None) -> dict:
    """Run ``job(cfg, callbacks)``, then print ``--json`` or ``table(result)`` (a rich renderable)."""
    progress = AnalysisProgress()
    try:
        result = job(cfg, progress.callbacks())
    finally:
        progress.close()
    if json_out:
        typer.echo(json.dumps(result, default=str))
    elif table is not None:
        Console().print(table(result))
    return result


def files_table(result: dict, numbers: list[tuple[str, Any]]) -> Table:
    """Key numbers, then every file written."""
    t = Table(show_header=True, header_style="bold")
    t.add_column("result")
    t.add_column("value", overflow="fold")
    for k, v in numbers:
        if v is not None:
            t.add_row(k, f"{v:.5g}" if isinstance(v, float) else str(v))
    files = result.get("files", [])
    if isinstance(files, dict):
        files = [f for fs in files.values() for f in fs]
    for f in files:
        t.add_row("file", str(f))
    return t


def merge(values: dict, config: Optional[Path]) -> dict:
    from ..config import load_config_file
    from .options import collect

    return collect(values, load_config_file(config) if config else {})
