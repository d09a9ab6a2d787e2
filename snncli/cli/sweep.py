"""``snn sweep``: train a grid of settings (cartesian product), and summarise a folder of runs."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from ..config import (
    SummaryConfig,
    SweepConfig,
    from_seed_format,
    load_config_file,
    load_grid_file,
    parse_grid_option,
)
from ..config.base import ConfigFileError
from .errors import EXIT_FAILED, user_errors
from .options import collect, opt
from .progress import stderr
from .train import train_command


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
SW = "Sweep"

_EXTRA = {
    "grid_file": Annotated[Optional[Path], typer.Argument(
        help="JSON/YAML/TOML file: {\"base\": {settings}, \"grid\": {setting: \\[values]}}.", show_default=False,
    )],
    "grid": Annotated[Optional[List[str]], typer.Option(
        "--grid", "-g", help="An axis KEY=V1,V2,... (repeatable; adds to or replaces the file's axes).",
        rich_help_panel=SW, show_default=False,
    )],
    "jobs": Annotated[Optional[int], opt(SweepConfig, "jobs", "--jobs", "-j", panel=SW)],
    "executor": Annotated[Optional[str], opt(SweepConfig, "executor", panel=SW)],
    "ray_address": Annotated[Optional[str], opt(SweepConfig, "ray_address", "--ray-address", panel=SW)],
    "cpus_per_run": Annotated[Optional[int], opt(SweepConfig, "cpus_per_run", "--cpus-per-run", panel=SW)],
}


def sweep_command(**options: Any) -> None:
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
    from ..engine.sweep import run_sweep

    extra = {k: options.pop(k) for k in _EXTRA}
    config, json_out = options.pop("config"), options.pop("json_out")
    with user_errors():
        base, axes = load_grid_file(extra["grid_file"]) if extra["grid_file"] else ({}, {})
        for text in extra["grid"] or []:
            key, values = parse_grid_option(text)
            axes[key] = values
        file_values = from_seed_format(load_config_file(config)) if config else {}
        base = collect({k: v for k, v in options.items() if v is not None}, {**base, **file_values})
        scheduling = {k: extra[k] for k in ("jobs", "executor", "ray_address", "cpus_per_run") if extra[k] is not None}
        sweep = SweepConfig(grid=axes, **scheduling)
        base = {k: str(v) if isinstance(v, Path) else v for k, v in base.items()}

        def progress(row: dict[str, Any]) -> None:
            status = row["status"]
            if status == "invalid":
                stderr.print(f"[yellow]skip[/] {row['name']}: invalid ({row['reason']})")
            elif status == "failed":
                stderr.print(f"[red]failed[/] {row['name']}: {row['error']}")
            else:
                acc = row.get("test_acc")
                stderr.print(f"{status} {row['name']}: test_acc={acc:.4f}" if acc is not None else f"{status} {row['name']}")

        report = run_sweep(base, sweep.grid, sweep.jobs, sweep.executor, sweep.ray_address, sweep.cpus_per_run, on_point=progress)
    if json_out:
        typer.echo(json.dumps(report, default=str))
    else:
        Console().print(_points_table(report))
    for failure in report["failed"]:
        stderr.print(f"snn: error: point {failure['name']} failed: {failure['error']}")
    if report["failed"]:
        raise typer.Exit(EXIT_FAILED)


def _points_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"sweep ({report['dir']})")
    axes = list(report["axes"])
    for col in (*axes, "status", "test_acc", "val_acc"):
        table.add_column(col)
    for p in report["points"]:
        accs = [f"{p[k]:.4f}" if isinstance(p.get(k), float) else "-" for k in ("test_acc", "val_acc")]
        table.add_row(*(str(p.get(a, "")) for a in axes), p["status"], *accs)
    return table


_sig = inspect.signature(train_command, eval_str=True)
sweep_command.__signature__ = _sig.replace(parameters=[
    inspect.Parameter("grid_file", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_EXTRA["grid_file"]),
    *(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in _sig.parameters.values()),
    *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann)
      for name, ann in _EXTRA.items() if name != "grid_file"),
])
app.command("run")(sweep_command)


@app.command("summarize")
def summarize_command(
    dir: Annotated[Path, typer.Argument(help="Folder holding the runs (a sweep's --out).", show_default=False)],
    x: Annotated[Optional[List[str]], typer.Option(
        "--x", help="Setting(s) that make the chart's groups (repeatable).", show_default=False,
    )] = None,
    hue: Annotated[Optional[str], typer.Option("--hue", help="Setting that colours the bars in a group.", show_default=False)] = None,
    metric: Annotated[Optional[str], opt(SummaryConfig, "metric")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")] = False,
) -> None:
    """Summarise every run below DIR: table, DIR/summary.csv, and the accuracy chart DIR/summary.png.

    One row per run: the settings that differ between runs, final accuracies, and for Flex runs
    the last epoch's conv ratio and binariness, ours and the seed's (mean over Flex layers). The chart groups bars
    by --x settings and colours them by --hue (default: the sweep's axes, the last one as hue).

    Examples:

      snn sweep summarize sweeps/pf

      snn sweep summarize sweeps/pf --x spiking --x use_stbp --hue masking_mechanism
    """
    from ..engine.sweep import summarize, write_summary_csv
    from ..plots.sweep import accuracy_bars

    with user_errors():
        cfg = SummaryConfig(dir=dir, x=x or None, hue=hue, **({"metric": metric} if metric else {}))
        summary = summarize(cfg.dir)
        if not summary["rows"]:
            raise ConfigFileError(f"{cfg.dir}: no runs (folders with config.json and a checkpoint) below it")
        settings = summary["settings"]
        for key in [*(cfg.x or []), *([cfg.hue] if cfg.hue else [])]:
            if key not in summary["columns"]:
                raise ConfigFileError(f"--x/--hue: {key!r} is not a setting that varies here ({', '.join(settings) or 'none'})")
        hue_key = cfg.hue or (settings[-1] if settings else None)
        group_keys = cfg.x if cfg.x is not None else [k for k in settings if k != hue_key]
    csv_path, png_path = cfg.dir / "summary.csv", cfg.dir / "summary.png"
    write_summary_csv(summary, csv_path)
    title = f"{cfg.metric.replace('_', ' ')} across the grid ({cfg.dir.name})"
    accuracy_bars(summary["rows"], group_keys, hue_key, png_path, value_key=cfg.metric, title=title)
    summary.update(csv=str(csv_path), figure=str(png_path))
    if json_out:
        typer.echo(json.dumps(summary, default=str))
        return
    table = Table(title=f"{len(summary['rows'])} runs in {cfg.dir} (run folders: summary.csv)")
    shown = [c for c in summary["columns"] if c != "run"]
    for col in shown:
        table.add_column(col)
    for row in summary["rows"]:
        table.add_row(*("-" if row.get(c) is None else f"{row[c]:.4f}" if isinstance(row[c], float) else str(row[c])
                        for c in shown))
    console = Console()
    # Piped output defaults to 80 columns, which would fold every cell of a wide table.
    Console(width=max(console.width, 160) if not console.is_terminal else None).print(table)
    stderr.print(f"wrote {csv_path} and {png_path}")
