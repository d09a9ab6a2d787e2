"""``snn attack``: accuracy of trained runs under adversarial attacks, at several budgets."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from ..config import AttackConfig
from .generate import command, options
from .run import run_analysis

app = typer.Typer()


def _cell(row: dict) -> str:
    return f"{row['accuracy']:.4f} / {row['robust_accuracy']:.4f}"


def attack_table(result: dict) -> Table:
    """Rows: eps; columns: run x attack accuracy."""
    t = Table(show_header=True, header_style="bold", title="accuracy under attack (final images / worst case over all points tried)")
    t.add_column("eps")
    cols = [(r, a) for r in result["runs"] for a in r["attacks"]]
    many = len(result["runs"]) > 1
    for r, a in cols:
        t.add_column(f"{r['name']}\n{a}" if many else a, justify="right")
    for i, e in enumerate(result["eps"]):
        t.add_row(f"{e * 255:g}/255", *[_cell(r["attacks"][a][i]) for r, a in cols])
    return t


def attack_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Attack trained runs and report accuracy at every budget eps (L-inf, pixel units).

    eps 0 is the clean accuracy. SPSA (gradient-free) beside PGD exposes gradient masking: if SPSA gets lower accuracy than PGD, the surrogate gradients mislead PGD. Writes analysis/attack_<name>.json and .csv and attack.png beside each run (or in --out).

    Examples:

      snn attack pgd runs/fashionmnist_dense_p0.15_T50_current

      snn attack pgd --with-spsa runs/ --top-n 3 --eps 0 --eps 4/255 --eps 8/255

      snn attack all runs/my_run --sample-size 256 --json | jq '.runs[0].attacks.pgd'
    """
    from ..jobs.attack import attack as job  # torch: imported when the command runs

    run_analysis(job, AttackConfig, values, config, json_out, attack_table)


command(app, "attack", attack_command, options(AttackConfig), models=[AttackConfig])
