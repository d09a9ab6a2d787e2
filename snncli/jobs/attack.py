"""``snn attack``: accuracy under each attack at every eps, for each selected run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence, TypedDict

import torch

from ..attacks import SEED_GRIDS, TorchAttack, attack_class, curve_summary, robust_accuracy, seed_settings
from ..config import AttackConfig
from ..engine.checkpoint import CheckpointError, load_checkpoint
from ..engine.device import resolve_device
from ..engine.runs import find_checkpoint, find_runs
from ..engine.writers import write_csv, write_json
from ..errors import require
from .common import AnalysisCallbacks, AnalysisInputError, adapter, open_run, out_dir, sample


def select_runs(paths: Sequence[Path], top_n: int | None = None) -> list[tuple[Path, float | None]]:
    """The runs ``paths`` name (run folders, checkpoints, or folders of runs), each with its best
    validation accuracy; with ``top_n``, only the ``top_n`` best by validation accuracy.

    Raises:
        AnalysisInputError: a path that holds no run.
    """
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        try:
            found.append(find_checkpoint(p))
            continue
        except CheckpointError:
            if not p.is_dir():
                raise
        runs = find_runs(p)
        if not runs:
            raise AnalysisInputError(f"{p}: no run folders (with config.json and a checkpoint) below it")
        found += [find_checkpoint(r) for r in runs]
    scored = []
    for ckpt in dict.fromkeys(found):  # de-duplicate, keep order
        history = load_checkpoint(ckpt).get("history", [])
        rows = history if isinstance(history, list) else []
        vals = [r["val_acc"] for r in rows if isinstance(r, dict) and isinstance(r.get("val_acc"), (int, float))]
        scored.append((ckpt, max(vals) if vals else None))
    if top_n is not None:
        scored.sort(key=lambda t: -1.0 if t[1] is None else t[1], reverse=True)
        scored = scored[:top_n]
    return scored


def _row_writer(rows: list, settings: dict, json_path: Path, csv_path: Path, label: str, total: int,
                cb: AnalysisCallbacks) -> Callable[[dict[str, Any]], None]:
    """Append a measured eps row and rewrite that attack's JSON and CSV at once (nothing lost on interrupt)."""

    pixel = attack_class(settings["attack"]).eps_unit.startswith("L-inf")

    def save(row: dict[str, Any]) -> None:
        rows.append(row)
        write_json(json_path, {**settings, "results": rows})
        write_csv(csv_path, rows)
        eps = f"{row['eps_255']:g}/255" if pixel else f"{row['eps']:.4g}"
        skipped = "" if row["attacked"] or row["eps"] == 0 else "  (no attack at this budget in the protocol)"
        cb.on_log(f"  {settings['attack']:7s} eps={eps}  accuracy={row['accuracy']:.4f}  ({row['time_s']:.1f}s){skipped}")
        cb.on_progress(label, len(rows), total)

    return save


class AttackResult(TypedDict):
    """What ``snn attack`` returns: per run, per attack, one row per eps (accuracy, robust accuracy...)."""

    eps: list[float]
    attacks: list[str]
    runs: list[dict[str, Any]]  # run, name, checkpoint, val_acc, attacks: {name: [rows]}, files
    files: list[str]  # the per-attack comparison figures of several runs


def attack(cfg: AttackConfig, callbacks: AnalysisCallbacks | None = None) -> AttackResult:
    """``snn attack``: accuracy under each attack at every eps, for each selected run.

    Writes per run ``attack_<name>.json`` and ``.csv`` (rewritten after every eps) and
    ``attack.png`` (every attack of the run); with several runs also ``attack_<name>_runs.png``
    (one line per run) in ``--out``, or in ``analysis/`` beside the first run's folder.
    """
    from ..plots import plot_adversarial_examples, plot_attack_curves

    cb = callbacks or AnalysisCallbacks()
    needing = [a for a in cfg.attacks if issubclass(attack_class(a), TorchAttack)]
    if needing:  # before any run is opened or file written
        require("torchattacks", "attack", f"snn attack {', '.join(needing)}")
    device = resolve_device(cfg.device)
    selected = select_runs(cfg.runs, cfg.top_n)
    many = len(selected) > 1
    results, per_attack = [], {name: {} for name in cfg.attacks}
    for ckpt, val_acc in selected:
        run = open_run(ckpt, device, images_needed=True)
        name = run.checkpoint.stem
        folder = out_dir(run, (cfg.out / name) if (cfg.out is not None and many) else cfg.out)
        clf = adapter(run, cfg.seed, cfg.eot)
        x, y = sample(run, cfg.sample_size, cfg.seed, device)
        cb.on_log(f"{name}: {len(x)} test samples, T={run.cfg.T} enc={run.cfg.enc} readout={run.cfg.loss}"
                  + (f" eot={cfg.eot}" if cfg.eot > 1 and clf.stochastic else "") + f", val_acc={val_acc}")
        entry = {"run": str(run.dir), "name": name, "checkpoint": str(run.checkpoint), "val_acc": val_acc,
                 "attacks": {}, "files": []}
        seed_protocol = cfg.protocol == "seed"
        entry["summary"] = {}
        for atk in cfg.attacks:
            options = {"samples": cfg.spsa_samples, "lr": cfg.spsa_lr, "delta": cfg.spsa_delta} if atk == "spsa" else {}
            eps = cfg.budgets(atk)
            cls = attack_class(atk)
            settings = {"attack": atk, "protocol": cfg.protocol, "eps_unit": cls.eps_unit,
                        "gradient_free": cls.gradient_free, "steps": cfg.steps,
                        "alpha": cfg.alpha, "seed": cfg.seed, "eot": cfg.eot, "sample_size": len(x), **options,
                        "run": str(run.dir), "T": run.cfg.T, "enc": run.cfg.enc, "readout": run.cfg.loss,
                        "surrogate": run.cfg.surrogate}
            if seed_protocol:
                settings.update(steps=None, alpha=None, per_eps_settings="the seed's (snncli.attacks.protocol.seed_settings)")
            rows: list[dict[str, Any]] = []
            json_path, csv_path = folder / f"attack_{atk}.json", folder / f"attack_{atk}.csv"
            examples: list[tuple[float, torch.Tensor]] = []

            save_row = _row_writer(rows, settings, json_path, csv_path, f"{name} {atk}", len(eps), cb)
            robust_accuracy(clf, atk, x, y, eps, steps=cfg.steps, alpha=cfg.alpha, seed=cfg.seed,
                            batch_size=cfg.batch_size, options=options, on_eps=save_row,
                            settings=(lambda e, a=atk: seed_settings(a, e)) if seed_protocol else None,
                            examples=cfg.examples, on_examples=lambda e, imgs: examples.append((e, imgs)))
            summary = curve_summary(rows, SEED_GRIDS[atk] if seed_protocol else None)
            write_json(json_path, {**settings, "results": rows, "summary": summary})
            cb.on_log(f"  {atk}: AUC {summary['auc']:.4g} ({cls.eps_unit} x accuracy; mean accuracy over the range "
                      f"{summary['auc_normalised']:.4f})" + (f", the seed's AUC {summary['auc_seed']:.4g}" if seed_protocol else ""))
            entry["attacks"][atk] = rows
            entry["summary"][atk] = summary
            entry["files"] += [str(json_path), str(csv_path)]
            if examples:
                entry["files"].append(str(_examples_figure(plot_adversarial_examples, clf, examples, y[: cfg.examples],
                                                           folder / f"attack_{atk}_examples.png", atk, cls.eps_unit, name)))
            per_attack[atk][name] = rows
        labels = {a: f"{a} (AUC {entry['summary'][a]['auc']:.3g})" for a in cfg.attacks}
        dashed = [labels[a] for a in cfg.attacks if attack_class(a).gradient_free]
        pixel = {labels[a]: r for a, r in entry["attacks"].items() if attack_class(a).eps_unit.startswith("L-inf")}
        if pixel:
            plot = plot_attack_curves(pixel, folder / "attack.png", title=f"Accuracy under attack\n{name}", dashed=dashed)
            entry["files"].append(str(plot))
        for atk, rows in entry["attacks"].items():
            if labels[atk] not in pixel:  # budgets in their own units (pixels, theta, noise std): a figure each
                unit = attack_class(atk).eps_unit
                entry["files"].append(str(plot_attack_curves({labels[atk]: rows}, folder / f"attack_{atk}.png", unit=unit,
                                                             title=f"Accuracy under {atk}\n{name}", dashed=dashed)))
        results.append(entry)
    files = []
    if many:
        folder = Path(cfg.out) if cfg.out is not None else Path(results[0]["run"]) / "analysis"
        for atk, curves in per_attack.items():
            files.append(str(plot_attack_curves(curves, folder / f"attack_{atk}_runs.png",
                                                title=f"{atk.upper()}: accuracy under attack, {len(curves)} runs")))
    eps = {atk: cfg.budgets(atk) for atk in cfg.attacks}
    return {"eps": cfg.eps if cfg.protocol == "snn" else None, "eps_per_attack": eps, "protocol": cfg.protocol,
            "attacks": cfg.attacks, "runs": results, "files": files}


@torch.no_grad()
def _examples_figure(plot, clf, examples, labels, path: Path, attack: str, unit: str, name: str) -> Path:
    """The adversarial examples of one attack at every budget, titled with the model's predictions."""
    device = next(clf.parameters()).device
    preds = [clf(imgs.to(device)).argmax(1).tolist() for _, imgs in examples]
    return plot(examples, path, title=f"{attack}: adversarial examples\n{name}", eps_unit=unit,
                predictions=preds, labels=labels.tolist())
