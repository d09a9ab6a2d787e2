"""What every command does after parsing: validate, run the job with progress on stderr, print the result."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import typer
from rich.progress import Progress, TextColumn
from rich.table import Table

from .errors import ANALYSIS_INTERRUPTED, EXIT_FAILED, user_errors
from .options import with_config_file
from .progress import progress_bar, stderr, stdout


class JobProgress:
    """Job callbacks -> stderr: log lines always; on a terminal a transient bar per task while it runs
    (a finished task's bar goes: its line has been logged)."""

    def __init__(self, on_item: Callable[[dict], None] | None = None) -> None:
        self.progress: Progress | None = None
        self.tasks: dict[str, Any] = {}
        self.on_item = on_item

    def callbacks(self, cfg: Any = None):
        from ..jobs.common import JobCallbacks

        return JobCallbacks(on_log=self.log, on_progress=self.update, **({"on_item": self.on_item} if self.on_item else {}))

    def log(self, msg: str) -> None:
        stderr.print(msg, markup=False)

    def update(self, task: str, done: int, total: int) -> None:
        if not stderr.is_terminal:
            return
        if self.progress is None:
            self.progress = progress_bar(TextColumn("{task.description}"))
            self.progress.start()
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        self.progress.update(self.tasks[task], completed=done, total=total)
        if done >= total:
            self.progress.remove_task(self.tasks.pop(task))

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def run_job(job: Callable[..., dict], make_config: Callable[[], Any], json_out: bool,
            show: Callable[[dict], Any] | None = None, progress: Any = None, interrupted: str | None = None) -> dict:
    """Validate (``make_config()``), run ``job(cfg, progress.callbacks())``, then print ``--json`` or ``show(result)``.

    Bad input and unusable runs exit 2 with one line (:func:`~snncli.cli.errors.user_errors`).
    ``progress`` (default :class:`JobProgress`) makes the callbacks from the config (``progress.callbacks(cfg)``).
    """
    progress = progress or JobProgress()
    with user_errors(*([interrupted] if interrupted else [])):
        cfg = make_config()
        try:
            result = job(cfg, progress.callbacks(cfg))
        finally:
            progress.close()
    if json_out:
        from ..engine.writers import json_text  # valid JSON: non-finite numbers as null, listed under "non_finite"

        typer.echo(json_text(result, indent=None))
    elif show is not None:
        shown = show(result)  # a renderable, or None when ``show`` printed itself
        if shown is not None:
            stdout().print(shown)
    return result


def files_table(result: dict, numbers: list[tuple[str, Any]]) -> Table:
    """Key numbers, then every file written."""
    t = Table(show_header=True, header_style="bold")
    t.add_column("result")
    t.add_column("value", overflow="fold")  # a path is folded on a narrow terminal, never cut
    for k, v in numbers:
        if v is not None:
            t.add_row(k, f"{v:.5g}" if isinstance(v, float) else str(v))
    files = result.get("files", [])
    if isinstance(files, dict):
        files = [f for fs in files.values() for f in fs]
    for f in files:
        t.add_row("file", str(f))
    return t


def run_analysis(job: Callable[..., dict], config_cls: type, values: dict, config: Any, json_out: bool,
                 show: Callable[[dict], Any]) -> dict:
    """The body of every analysis command: validate ``values`` (over ``--config``) into ``config_cls``, run ``job``."""
    return run_job(job, lambda: config_cls(**with_config_file(values, config, seed_format=False)), json_out, show,
                   interrupted=ANALYSIS_INTERRUPTED)


def exit_if_failed(failed: list[dict], label: str, key: str) -> None:
    """After a job of many items: each failed item as an error line, then exit status 1."""
    for failure in failed:
        stderr.print(f"snn: error: {label} {failure[key]} failed: {failure['error']}")
    if failed:
        raise typer.Exit(EXIT_FAILED)
