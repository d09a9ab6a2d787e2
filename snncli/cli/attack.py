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


def _eps(value: float, unit: str) -> str:
    return f"{value * 255:.4g}/255" if unit.startswith("L-inf") else f"{value:.4g}"


def attack_table(result: dict) -> Table:
    """Rows: eps (one column per attack when their grids differ); columns: run x attack accuracy; then the AUCs."""
    from ..attacks import attack_class

    title = "accuracy under attack (final images / worst case over all points tried)"
    if result.get("protocol") == "seed":
        title += ", the seed's protocol"
    t = Table(show_header=True, header_style="bold", title=title)
    many = len(result["runs"]) > 1
    grids = result.get("eps_per_attack") or {a: result["eps"] for a in result["attacks"]}
    shared = len({tuple(g) for g in grids.values()}) == 1
    units = {a: attack_class(a).eps_unit for a in grids}
    groups = [list(grids)] if shared else [[a] for a in grids]
    for group in groups:
        t.add_column("eps" if shared else f"eps\n{group[0]}")
        for r in result["runs"]:
            for a in group:
                t.add_column(f"{r['name']}\n{a}" if many else a, justify="right")
    for i in range(max(len(g) for g in grids.values())):
        cells = []
        for group in groups:
            g = grids[group[0]]
            cells.append(_eps(g[i], units[group[0]]) if i < len(g) else "")
            cells += [_cell(r["attacks"][a][i]) if i < len(r["attacks"][a]) else "" for r in result["runs"] for a in group]
        t.add_row(*cells)
    for key, label in (("auc", "AUC"), ("auc_normalised", "AUC / range"), ("auc_seed", "AUC (seed's dx)")):
        if all(key in r.get("summary", {}).get(a, {}) for r in result["runs"] for a in grids):
            cells = []
            for group in groups:
                cells.append(label)
                cells += [f"{r['summary'][a][key]:.4g}" for r in result["runs"] for a in group]
            t.add_row(*cells, style="bold")
    return t


def attack_command(config=None, json_out: bool = False, **values: Any) -> None:
    """Attack trained runs and report accuracy at every budget eps (L-inf, pixel units) and the area under the curve.

    eps 0 is the clean accuracy. SPSA (gradient-free) beside PGD exposes gradient masking: if SPSA gets lower accuracy than PGD, the surrogate gradients mislead PGD. --protocol seed runs the PlasticFlex seed's protocol: each attack over its own 23-point eps grid (PGD to 23/255, FGSM to 0.64, onepixel 1 to 42 pixels...) with its settings, and reports the seed's AUC beside ours. Writes analysis/attack_<name>.json and .csv, attack.png (and attack_<name>_examples.png with --examples) beside each run (or in --out).

    Examples:

      snn attack pgd runs/fashionmnist_dense_p0.15_T50_current

      snn attack pgd --with-spsa runs/ --top-n 3 --eps 0 --eps 4/255 --eps 8/255

      snn attack all runs/my_run --sample-size 256 --json | jq '.runs[0].attacks.pgd'

      snn attack pgd,fgsm,onepixel runs/my_run --protocol seed
    """
    from ..jobs.attack import attack as job  # torch: imported when the command runs

    run_analysis(job, AttackConfig, values, config, json_out, attack_table)


command(app, "attack", attack_command, options(AttackConfig), models=[AttackConfig])
