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
from .errors import user_errors
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
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Measure training/inference throughput and peak memory, snn vs. the snnTorch per-step loop.

    Example: snn bench --model dense --hidden-dim 2048 --T 50 --batch-size 256
    """
    from ..config import load_config_file
    from ..engine.bench import run_bench

    values = {k: v for k, v in locals().items() if k not in ("config", "json_out", "run_bench", "load_config_file")}
    with user_errors():
        cfg = BenchConfig(**collect(values, load_config_file(config) if config else {}))
        result = run_bench(cfg, on_log=lambda m: stderr.print(f"[dim]{m}[/]"))
    if json_out:
        typer.echo(json.dumps(result))
        return
    Console().print(bench_table(result))


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
