"""``snn bench``: the fused engine against the per-step snnTorch loop, same network, same data."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..config.bench import BenchConfig
from ..data import ENCODINGS
from ..models import list_models
from .errors import fail, user_errors
from .options import ConfigFile, JsonOut, collect, opt
from .progress import stderr

app = typer.Typer()
B = BenchConfig


@app.command("bench")
def bench_command(
    model: Annotated[Optional[str], opt(B, "model", choices=list_models())] = None,
    hidden_dim: Annotated[Optional[int], opt(B, "hidden_dim", "--hidden-dim", "--hidden_dim")] = None,
    p_inter: Annotated[Optional[float], opt(B, "p_inter", "--p-inter", "--p_inter")] = None,
    groups: Annotated[Optional[int], opt(B, "groups")] = None,
    T: Annotated[Optional[int], opt(B, "T", "--T", "-T")] = None,
    batch_size: Annotated[Optional[int], opt(B, "batch_size", "--batch-size", "--batch_size", "-b")] = None,
    enc: Annotated[Optional[str], opt(B, "enc", choices=ENCODINGS)] = None,
    device: Annotated[Optional[str], opt(B, "device")] = None,
    precision: Annotated[Optional[str], opt(B, "precision")] = None,
    warmup: Annotated[Optional[int], opt(B, "warmup")] = None,
    repeats: Annotated[Optional[int], opt(B, "repeats")] = None,
    steps: Annotated[Optional[int], opt(B, "steps")] = None,
    min_repeat_s: Annotated[Optional[float], opt(B, "min_repeat_s", "--min-repeat-s")] = None,
    threads: Annotated[Optional[int], opt(B, "threads")] = None,
    reference: Annotated[Optional[bool], opt(B, "reference", "--reference/--no-reference")] = None,
    memory: Annotated[Optional[bool], opt(B, "memory", "--memory/--no-memory")] = None,
    seed: Annotated[Optional[int], opt(B, "seed")] = None,
    allocator: Annotated[Optional[str], opt(B, "allocator")] = None,
    hidden_layers: Annotated[Optional[int], opt(B, "hidden_layers", "--hidden-layers", "--hidden_layers")] = None,
    against: Annotated[Optional[str], opt(B, "against")] = None,
    interleave: Annotated[Optional[bool], opt(B, "interleave", "--interleave/--no-interleave")] = None,
    weights: Annotated[Optional[str], opt(B, "weights")] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Measure training/inference throughput and peak memory, snn vs. the snnTorch per-step loop
    (and SpikingJelly / Norse twins with --against), same weights and batch, repeats in turn.

    Reports min, median and max of the repeats, the CPU model and the load average, and warns
    when the load or the spread makes the ratios unreliable.

    Example: snn bench --model dense --hidden-dim 2048 --hidden-layers 3 --T 50 --batch-size 256 --against spikingjelly,norse
    """
    from ..config import load_config_file
    from ..engine.bench import BenchInputError, run_bench

    values = {
        k: v for k, v in locals().items()
        if k not in ("config", "json_out", "run_bench", "load_config_file", "BenchInputError")
    }
    with user_errors():
        cfg = BenchConfig(**collect(values, load_config_file(config) if config else {}))
        try:
            result = run_bench(cfg, on_log=lambda m: stderr.print(f"[dim]{m}[/]"))
        except BenchInputError as exc:
            fail(str(exc))
    if json_out:
        typer.echo(json.dumps(result))
        return
    console = Console()
    if not console.is_terminal:  # piped into a file: the whole table, not an 80-column squeeze
        console = Console(width=max(console.width, 170))
    console.print(bench_table(result))
    for line in bench_notes(result):
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
        events = r.get("snn_event_layers") or []
        used = [str(i + 1) for i, e in enumerate(events) if e]
        lines.append(
            "snn firing rates " + ", ".join(f"{x:.3f}" for x in r["snn_rates"])
            + (f"; event-driven products in layer(s) {', '.join(used)}" if used else "; dense products")
        )
    for name, text in r.get("semantics", {}).items():
        lines.append(f"{NAMES[name]}: {text}")
    for w in r.get("warnings", []):
        lines.append(f"[yellow]warning: {w}[/]")
    return lines
