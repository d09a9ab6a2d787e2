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
from ..data import load_dataset, stratified_kfold
from ..engine.callbacks import Callbacks
from ..engine.device import resolve_device
from ..engine.executors import in_process, require_ray, run_tasks
from ..engine.inputs import load_inputs
from ..engine.locks import RunLock
from ..engine.runs import RunPaths
from ..engine.trainer import train
from ..engine.writers import write_json
from ..errors import SnnError
from .common import JobCallbacks, training_progress


class CrossvalInputError(SnnError, ValueError):
    """A cross-validation the data cannot support (more folds than samples of a class); nothing was run."""


def crossval_dir(cfg: TrainConfig, k: int) -> Path:
    return cfg.out / f"crossval_{cfg.run_name()}_k{k}"


def run_fold(cfg_json: str, fold: int, k: int, callbacks: Callbacks | None = None, threads: int | None = None) -> dict[str, Any]:
    """Train fold ``fold`` of ``k`` (also the entry point of worker processes, which report no progress)."""
    cfg = TrainConfig.model_validate_json(cfg_json)
    if cfg.threads is None and threads:  # recorded in the fold's config.json
        cfg = cfg.model_copy(update={"threads": threads})
    # Features of the whole dataset for --use-resnet (cached), then the folds; the trainer fits their shape.
    splits = load_inputs(cfg, resolve_device(cfg.device), hold_out=False, fit=False).splits
    train_idx, val_idx = stratified_kfold(splits.train.y, k, cfg.seed)[fold]
    fold_data = type(splits)(train=splits.train.subset(train_idx), test=splits.test, source=splits.source)
    root = crossval_dir(cfg, k) / f"fold{fold}"
    paths = RunPaths(root, f"{cfg.run_name()}_fold{fold}")
    result = train(cfg, callbacks or Callbacks(), data=fold_data, val=splits.train.subset(val_idx), paths=paths)
    return {"fold": fold, **{key: result.get(key) for key in (
        "status", "val_acc", "val_loss", "test_acc", "test_loss", "train_acc", "samples_per_s", "run_dir", "health")}}


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
    folds: list[dict[str, Any]]  # fold, status, val_acc, val_loss, test_acc, test_loss, train_acc, ..., health
    summary: dict[str, dict[str, float]]  # metric -> mean, std over the finished folds
    unhealthy: list[int]  # folds whose health check found something wrong (engine.health): dead, saturated, at chance
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
    _check_fold_count(tcfg, k, cb)
    root = crossval_dir(tcfg, k)
    with RunLock(root) as lock:  # one crossval of this setting at a time; each fold also locks its own folder
        report = _run_folds(cfg, tcfg, root, cb)
        lock.keep_folder()
    return report


def _check_fold_count(tcfg: TrainConfig, k: int, cb: JobCallbacks) -> None:
    """Refuse, before any fold starts, a fold count the training set cannot fill (a fold needs a sample to
    validate on); note folds that some class will be missing from.

    Raises:
        CrossvalInputError: ``k`` exceeds the training samples.
    """
    import torch

    y = load_dataset(tcfg.dataset, tcfg.data_root).train.y
    if k > len(y):
        raise CrossvalInputError(f"--k-folds: {k} folds need at least {k} training samples; {tcfg.dataset} has {len(y)}")
    counts = torch.bincount(y.long().cpu())
    rarest = int(counts[counts > 0].min()) if len(counts) else 0
    if k > rarest:
        cb.on_log(f"note: the rarest class of {tcfg.dataset} has {rarest} training samples: some of the {k} folds "
                  "validate without it")


def _run_folds(cfg: CrossvalConfig, tcfg: TrainConfig, root: Path, cb: JobCallbacks) -> CrossvalReport:
    k = cfg.k_folds
    cfg_json = tcfg.model_dump_json()

    finished = []

    def done(fold, result, failure):
        finished.append(fold)
        cb.on_item(result if failure is None else {"fold": fold, **failure})
        cb.on_progress("folds", len(finished), k)

    tasks = {fold: (cfg_json, fold, k) for fold in range(k)}
    if in_process(cfg.executor, cfg.jobs, len(tasks)):  # one fold at a time here: its epochs show too
        tasks = {fold: (*args, training_progress(cb, f"fold {fold}", tcfg.epochs))
                 for fold, args in tasks.items()}
    cb.on_progress("folds", 0, k)
    done_folds, failures = run_tasks(
        run_fold, tasks, jobs=cfg.jobs, executor=cfg.executor,
        ray_address=cfg.ray_address, cpus_per_task=cfg.cpus_per_fold, on_done=done,
    )
    results = list(done_folds.values())
    failed = [{"fold": fold, **f} for fold, f in failures.items()]
    results.sort(key=lambda r: r["fold"])
    report = {
        "dir": str(root), "k_folds": k, "config": tcfg.model_dump(mode="json"),
        "folds": results, "summary": summarise(results), "failed": sorted(failed, key=lambda f: f["fold"]),
        "unhealthy": [r["fold"] for r in results if r.get("health") and not r["health"].get("ok")],
    }
    write_json(root / "crossval.json", report)
    return report


