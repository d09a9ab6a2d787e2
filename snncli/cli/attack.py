"""``snn attack``: accuracy of trained runs under adversarial attacks, at several budgets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.table import Table

from ..attacks import list_attacks
from ..config import AttackConfig
from .analysis_common import Device, Out, Seed, run_command
from .options import ConfigFile, JsonOut, opt

app = typer.Typer()
C = AttackConfig
ATK, SPSA = "Attack", "SPSA (gradient-free)"


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


@app.command("attack")
def attack_command(
    attack: Annotated[str, typer.Argument(help=f"Attack(s), comma-separated: all (= fgsm,pgd,spsa,noise) or {', '.join(list_attacks())}.", show_default=False)],
    runs: Annotated[List[Path], typer.Argument(help="Run folders, checkpoints (.pth), or folders of runs.", show_default=False)],
    eps: Annotated[Optional[List[str]], typer.Option(
        "--eps", help="Budget: L-inf in pixel units (pixels for onepixel, theta for jsma); repeatable; fractions accepted (8/255). "
        "\\[default: 0 1/255 2/255 4/255 8/255 16/255]", show_default=False, rich_help_panel=ATK)] = None,
    steps: Annotated[Optional[int], opt(C, "steps", panel=ATK)] = None,
    alpha: Annotated[Optional[float], opt(C, "alpha", panel=ATK)] = None,
    sample_size: Annotated[Optional[int], opt(C, "sample_size", "--sample-size", "--sample_size", panel=ATK)] = None,
    eot: Annotated[Optional[int], opt(C, "eot", panel=ATK)] = None,
    top_n: Annotated[Optional[int], opt(C, "top_n", "--top-n", "--top_n", panel=ATK)] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size", panel=ATK)] = None,
    protocol: Annotated[Optional[str], opt(C, "protocol", panel=ATK)] = None,
    examples: Annotated[Optional[int], opt(C, "examples", panel=ATK)] = None,
    with_spsa: Annotated[Optional[bool], opt(C, "with_spsa", "--with-spsa", panel=SPSA)] = None,
    spsa_samples: Annotated[Optional[int], opt(C, "spsa_samples", "--spsa-samples", panel=SPSA)] = None,
    spsa_lr: Annotated[Optional[float], opt(C, "spsa_lr", "--spsa-lr", panel=SPSA)] = None,
    spsa_delta: Annotated[Optional[float], opt(C, "spsa_delta", "--spsa-delta", panel=SPSA)] = None,
    device: Annotated[Optional[str], Device] = None,
    seed: Annotated[Optional[int], Seed] = None,
    out: Annotated[Optional[Path], Out] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Attack trained runs and report accuracy at every budget eps (L-inf, pixel units) and the area under the curve.

    eps 0 is the clean accuracy. SPSA (gradient-free) beside PGD exposes gradient masking: if SPSA gets lower accuracy than PGD, the surrogate gradients mislead PGD. --protocol seed runs the PlasticFlex seed's protocol: each attack over its own 23-point eps grid (PGD to 23/255, FGSM to 0.64, onepixel 1 to 42 pixels...) with its settings, and reports the seed's AUC beside ours. Writes analysis/attack_<name>.json and .csv, attack.png (and attack_<name>_examples.png with --examples) beside each run (or in --out).

    Examples:

      snn attack pgd runs/fashionmnist_dense_p0.15_T50_current

      snn attack pgd --with-spsa runs/ --top-n 3 --eps 0 --eps 4/255 --eps 8/255

      snn attack all runs/my_run --sample-size 256 --json | jq '.runs[0].attacks.pgd'

      snn attack pgd,fgsm,onepixel runs/my_run --protocol seed
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out", "attack")}
    values["attacks"] = [a.strip() for a in attack.split(",") if a.strip()]
    from ..jobs.attack import attack as job  # torch-heavy: imported only when the command runs

    run_command(job, C, values, config, json_out, attack_table)
