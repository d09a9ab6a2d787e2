"""``snn sweep``: train a grid of settings (cartesian product), and summarise a folder of runs."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from ..config import SummaryConfig, SweepConfig, TrainConfig
from .generate import command, given, options
from .options import with_config_file
from .progress import health_cell, stderr, stdout, titled_table
from .run import JobProgress, exit_if_failed, run_job


class _RunByDefault(TyperGroup):
    """``snn sweep grid.json ...`` means ``snn sweep run grid.json ...``; ``summarize`` is the other command."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    help="Train a grid of settings (`snn sweep [GRID_FILE] --grid K=V1,V2 ...`), or summarise one (`snn sweep summarize DIR`).",
)


def _point_line(row: dict[str, Any]) -> None:
    status = row["status"]
    if status == "invalid":
        stderr.print(f"[yellow]skip[/] {row['name']}: invalid ({row['reason']})")
    elif status == "failed":
        stderr.print(f"[red]failed[/] {row['name']}: {row['error']}")
    else:
        acc = row.get("test_acc")
        health = f" health={health_cell(row['health'])}" if row.get("health") else ""
        stderr.print((f"{status} {row['name']}: test_acc={acc:.4f}" if acc is not None else f"{status} {row['name']}") + health)


def sweep_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Train every point of a grid: the cartesian product of the axes over a base config.

    The base is the grid file's "base", then --config, then the `snn train` flags given here;
    each axis value overrides it. Point k1=v1,k2=v2 runs in OUT/k1=v1_k2=v2/<run name>/.
    Invalid combinations (e.g. use_stbp=true with spiking=false) are skipped with the reason,
    finished points (.DONE) are skipped, unfinished ones resume; a failed point is reported
    after the others finish (exit status 1). Writes OUT/sweep.json.

    Examples:

      snn sweep --model vgg6 --use-flex --dataset fashionmnist --epochs 1 --out sweeps/s \\
          --grid spiking=true,false --grid use_stbp=true,false

      snn sweep recipes/plasticflex_grid.json --out sweeps/pf --jobs 2

      snn sweep summarize sweeps/s             # table, summary.csv, summary.png
    """
    from ..jobs.sweep import run_sweep  # torch: imported when the command runs

    train_values = {k: values.pop(k) for k in list(values) if k in TrainConfig.model_fields}

    def make_config() -> SweepConfig:
        return SweepConfig(**given(values), base=with_config_file(train_values, config))

    report = run_job(run_sweep, make_config, json_out, _points_table, JobProgress(on_item=_point_line))
    exit_if_failed(report["failed"], "point", "name")


def _points_table(report: dict[str, Any]) -> Table:
    table = titled_table(f"sweep ({report['dir']})")
    axes = list(report["axes"])
    for col in (*axes, "status", "test_acc", "val_acc", "health"):
        table.add_column(col)
    for p in report["points"]:
        accs = [f"{p[k]:.4f}" if isinstance(p.get(k), float) else "-" for k in ("test_acc", "val_acc")]
        health = health_cell(p.get("health")) if p["status"] in ("finished", "skipped") else ""
        table.add_row(*(str(p.get(a, "")) for a in axes), p["status"], *accs, health)
    return table


def summarize_command(json_out: bool = False, **values: Any) -> None:
    """Summarise every run below DIR: table, DIR/summary.csv, and the accuracy chart DIR/summary.png.

    One row per run: the settings that differ between runs, final accuracies, and for Flex runs
    the last epoch's conv ratio and binariness, ours and the seed's (mean over Flex layers). The chart groups bars
    by --x settings and colours them by --hue (default: the sweep's axes, the last one as hue).

    Examples:

      snn sweep summarize sweeps/pf

      snn sweep summarize sweeps/pf --x spiking --x use_stbp --hue masking_mechanism
    """
    from ..jobs.sweep import summarize_sweep  # torch: imported when the command runs

    run_job(summarize_sweep, lambda: SummaryConfig(**given(values)), json_out, _print_summary)


def _print_summary(summary: dict[str, Any]) -> None:
    table = titled_table(f"{len(summary['rows'])} runs in {summary['dir']} (run folders: summary.csv)")
    shown = [c for c in summary["columns"] if c != "run"]
    for col in shown:
        table.add_column(col)
    for row in summary["rows"]:
        table.add_row(*("-" if row.get(c) is None else f"{row[c]:.4f}" if isinstance(row[c], float)
                        else f"[bold red]{row[c]}[/]" if c == "health" and row[c] not in ("ok", "?", "-") else str(row[c])
                        for c in shown))
    stdout().print(table)  # piped: never folded (progress.OutputConsole)


command(app, "run", sweep_command, options(SweepConfig) + options(TrainConfig), models=[SweepConfig, TrainConfig])
command(app, "summarize", summarize_command, options(SummaryConfig), models=[SummaryConfig], config_file=False)
