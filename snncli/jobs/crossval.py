"""``snn crossval``: k-fold cross-validation, one resumable training run per fold, in local processes or Ray tasks.

Folds are stratified over the training set (``snncli.data.stratified_kfold``, seeded by the
run's seed). Fold *i* trains on the other folds and validates on fold *i*, in
``{out}/crossval_{run_name}_k{K}/fold{i}/``; a finished fold (``.DONE``) is skipped when the
command is re-run. A fold that fails does not stop the others: its error is reported.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any, TypedDict

from ..config import CrossvalConfig, TrainConfig
from ..data import stratified_kfold
from ..engine.callbacks import Callbacks
from ..engine.device import resolve_device
from ..engine.executors import require_ray, run_tasks
from ..engine.inputs import load_inputs
from ..engine.runs import RunPaths
from ..engine.trainer import train
from ..engine.writers import write_json
from .common import JobCallbacks


def crossval_dir(cfg: TrainConfig, k: int) -> Path:
    return cfg.out / f"crossval_{cfg.run_name()}_k{k}"


def run_fold(cfg_json: str, fold: int, k: int, threads: int | None = None) -> dict[str, Any]:
    """Train fold ``fold`` of ``k`` (also the entry point of worker processes)."""
    cfg = TrainConfig.model_validate_json(cfg_json)
    if cfg.threads is None and threads:  # recorded in the fold's config.json
        cfg = cfg.model_copy(update={"threads": threads})
    # Features of the whole dataset for --use-resnet (cached), then the folds; the trainer fits their shape.
    splits = load_inputs(cfg, resolve_device(cfg.device), hold_out=False, fit=False).splits
    train_idx, val_idx = stratified_kfold(splits.train.y, k, cfg.seed)[fold]
    fold_data = type(splits)(train=splits.train.subset(train_idx), test=splits.test, source=splits.source)
    root = crossval_dir(cfg, k) / f"fold{fold}"
    paths = RunPaths(root, f"{cfg.run_name()}_fold{fold}")
    result = train(cfg, Callbacks(), data=fold_data, val=splits.train.subset(val_idx), paths=paths)
    return {"fold": fold, **{key: result.get(key) for key in (
        "status", "val_acc", "val_loss", "test_acc", "test_loss", "train_acc", "samples_per_s", "run_dir")}}


def summarise(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and (sample) standard deviation of each metric over the folds that finished."""
    out: dict[str, Any] = {}
    for key in ("val_acc", "val_loss", "test_acc", "test_loss"):
        values = [f[key] for f in folds if f.get(key) is not None and not math.isnan(f[key])]
        if values:
            out[key] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}
    return out


class CrossvalReport(TypedDict):
    """What ``snn crossval`` returns (and writes to ``crossval.json``)."""

    dir: str
    k_folds: int
    config: dict[str, Any]
    folds: list[dict[str, Any]]  # fold, status, val_acc, val_loss, test_acc, test_loss, train_acc, ...
    summary: dict[str, dict[str, float]]  # metric -> mean, std over the finished folds
    failed: list[dict[str, Any]]  # fold, error


def crossval(cfg: CrossvalConfig, callbacks: JobCallbacks | None = None) -> CrossvalReport:
    """``snn crossval``: run all folds of ``cfg`` and write ``crossval.json``.

    Folds run one after another (``jobs == 1``), ``jobs`` at a time in local processes, or as
    Ray tasks (``executor="ray"``) on the cluster at ``ray_address`` or on a local instance.
    ``callbacks.on_item`` gets each fold's row as it ends.

    Returns:
        ``{"folds": [...], "summary": {...}, "failed": [...], "dir": ...}``; a failed fold appears in
        ``failed`` with its error, the others still run.

    Raises:
        ExecutorUnavailableError: Ray was asked for and is not installed.
    """
    cb = callbacks or JobCallbacks()
    if cfg.executor == "ray":
        require_ray()  # before anything is written
    k, tcfg = cfg.k_folds, cfg.train_config()
    root = crossval_dir(tcfg, k)
    root.mkdir(parents=True, exist_ok=True)
    cfg_json = tcfg.model_dump_json()

    def done(fold, result, failure):
        cb.on_item(result if failure is None else {"fold": fold, **failure})

    done_folds, failures = run_tasks(
        run_fold, {fold: (cfg_json, fold, k) for fold in range(k)}, jobs=cfg.jobs, executor=cfg.executor,
        ray_address=cfg.ray_address, cpus_per_task=cfg.cpus_per_fold, on_done=done,
    )
    results = list(done_folds.values())
    failed = [{"fold": fold, **f} for fold, f in failures.items()]
    results.sort(key=lambda r: r["fold"])
    report = {
        "dir": str(root), "k_folds": k, "config": tcfg.model_dump(mode="json"),
        "folds": results, "summary": summarise(results), "failed": sorted(failed, key=lambda f: f["fold"]),
    }
    write_json(root / "crossval.json", report)
    return report


