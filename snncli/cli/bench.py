"""``snn bench``: the fused engine against the per-step snnTorch loop, same network, same data."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config.bench import BenchConfig
from .generate import command, options
from .options import with_config_file
from .run import JobProgress, run_job

app = typer.Typer()


class _DimLog(JobProgress):
    def log(self, msg: str) -> None:
        from .progress import stderr

        stderr.print(f"[dim]{msg}[/]")


def bench_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Measure training/inference throughput and peak memory, snn vs. the snnTorch per-step loop.

    Example: snn bench --model dense --hidden-dim 2048 --T 50 --batch-size 256
    """
    from ..jobs.bench import bench  # torch: imported when the command runs

    run_job(bench, lambda: BenchConfig(**with_config_file(values, config, seed_format=False)), json_out, bench_table,
            _DimLog())


def _mib(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 2**20:,.0f} MiB"


def bench_table(r: dict) -> Table:
    c = r["config"]
    title = (
        f"{c['model']} hidden {c['hidden_dim']}, T {c['T']}, batch {c['batch_size']}, {c['enc']} "
        f"| {r['device']}, {r['threads']} threads, precision {r['precision']}"
    )
    t = Table(title=title)
    t.add_column("")
    t.add_column("train samples/s", justify="right")
    t.add_column("inference samples/s", justify="right")
    t.add_column("peak train memory", justify="right")
    for impl in ("snn", "reference"):
        if impl in r:
            row = r[impl]
            name = "snn" if impl == "snn" else "snnTorch per-step"
            t.add_row(name, f"{row['train_samples_per_s']:,.1f}", f"{row['infer_samples_per_s']:,.1f}", _mib(row["peak_train_bytes"]))
    if "ratio" in r:
        ratio = r["ratio"]
        mem = "n/a" if ratio["peak_memory"] is None else f"{ratio['peak_memory']:.2f}x"
        t.add_row("[bold]ratio[/]", f"[bold]{ratio['train']:.2f}x[/]", f"{ratio['infer']:.2f}x", mem)
    return t


command(app, "bench", bench_command, options(BenchConfig), models=[BenchConfig])
