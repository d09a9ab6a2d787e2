"""``snn bench``: the fused engine against the per-step snnTorch loop, same network, same data."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
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
    """Measure training/inference throughput and peak memory, snn vs. the snnTorch per-step loop
    (and SpikingJelly / Norse twins with --against), same weights and batch, repeats in turn.

    Reports min, median and max of the repeats, the CPU model and the load average, and warns
    when the load or the spread makes the ratios unreliable.

    Example: snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --against spikingjelly,norse
    """
    from ..jobs.bench import bench  # torch: imported when the command runs

    run_job(bench, lambda: BenchConfig(**with_config_file(values, config, seed_format=False)), json_out, show_bench,
            _DimLog())


def show_bench(r: dict) -> None:
    """The table, then the notes under it; piped into a file, the whole width instead of 80 columns."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 170))
    console.print(bench_table(r))
    for line in bench_notes(r):
        console.print(line, highlight=False)


def _mib(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 2**20:,.0f} MiB"


NAMES = {"snn": "snn", "reference": "snnTorch per-step", "spikingjelly": "SpikingJelly", "norse": "Norse"}


def _range(summary: dict) -> str:
    return f"{summary['median']:,.1f} ({summary['min']:,.1f}-{summary['max']:,.1f})"


def _ratio(r: dict) -> str:
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"


def bench_table(r: dict) -> Table:
    c = r["config"]
    layers = f" x{c['hidden_layers']}" if c.get("hidden_layers") else ""
    title = (
        f"{c['model']} hidden {c['hidden_dim']}{layers}, T {c['T']}, batch {c['batch_size']}, {c['enc']} "
        f"| {r['device']} ({r.get('cpu', '?')}), {r['threads']} threads, precision {r['precision']}"
    )
    t = Table(title=title)
    t.add_column("")
    t.add_column("train samples/s: median (min-max)", justify="right")
    t.add_column("inference samples/s", justify="right")
    t.add_column("peak train memory", justify="right")
    ratios = r.get("ratios", {})
    if ratios:
        t.add_column("train ratio vs snnTorch", justify="right")
        t.add_column("inference ratio", justify="right")
        t.add_column("memory ratio", justify="right")
    for impl in ("snn", "reference", "spikingjelly", "norse"):
        if impl not in r:
            continue
        row = r[impl]
        cells = [NAMES[impl], _range(row["train_summary"]), _range(row["infer_summary"]), _mib(row["peak_train_bytes"])]
        if ratios:
            if impl in ratios:
                q = ratios[impl]
                mem = "n/a" if q["peak_memory"] is None else f"{q['peak_memory']:.2f}x"
                bold = "bold" if impl == "snn" else ""
                cells += [f"[{bold}]{_ratio(q['train'])}[/]" if bold else _ratio(q["train"]), _ratio(q["infer"]), mem]
            else:
                cells += ["1.00x", "1.00x", "1.00x"]
        t.add_row(*cells)
    return t


def bench_notes(r: dict) -> list[str]:
    """The lines printed under the table: load, snn's firing rates and products, peers' semantics, warnings."""
    lines = []
    load = r.get("load_before"), r.get("load_after")
    if any(load):
        fmt = lambda x: "n/a" if not x else " ".join(f"{v:.2f}" for v in x)  # noqa: E731
        lines.append(f"load average before {fmt(load[0])}, after {fmt(load[1])} ({r.get('cpus')} CPUs)")
    if r.get("snn_rates"):
        products = r.get("snn_products") or ["events" if e else "dense" for e in r.get("snn_event_layers") or []]
        lines.append(
            "snn firing rates " + ", ".join(f"{x:.3f}" for x in r["snn_rates"])
            + ("; products per layer: " + ", ".join(products) if products else "")
        )
    for name, text in r.get("semantics", {}).items():
        lines.append(f"{NAMES[name]}: {text}")
    for w in r.get("warnings", []):
        lines.append(f"[yellow]warning: {w}[/]")
    return lines


command(app, "bench", bench_command, options(BenchConfig), models=[BenchConfig])
