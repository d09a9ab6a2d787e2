"""k-fold cross-validation: one resumable training run per fold, in local processes or Ray tasks.

Folds are stratified over the training set (``snncli.data.stratified_kfold``, seeded by the
run's seed). Fold *i* trains on the other folds and validates on fold *i*, in
``{out}/crossval_{run_name}_k{K}/fold{i}/``; a finished fold (``.DONE``) is skipped when the
command is re-run. A fold that fails does not stop the others: its error is reported.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import statistics
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable

import torch

from ..config import TrainConfig
from ..data import load_dataset, stratified_kfold
from .backbone import resnet_features
from .device import resolve_device
from .trainer import Callbacks, RunPaths, train
from .writers import write_json


def crossval_dir(cfg: TrainConfig, k: int) -> Path:
    return cfg.out / f"crossval_{cfg.run_name()}_k{k}"


def run_fold(cfg_json: str, fold: int, k: int, threads: int | None = None) -> dict[str, Any]:
    """Train fold ``fold`` of ``k`` (also the entry point of worker processes)."""
    if threads:
        torch.set_num_threads(threads)
    cfg = TrainConfig.model_validate_json(cfg_json)
    splits = load_dataset(cfg.dataset, cfg.data_root)
    if cfg.use_resnet:  # features of the whole dataset (cached), then the folds
        splits, _ = resnet_features(cfg.dataset, splits, cfg.backbone, resolve_device(cfg.device))
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


class ExecutorUnavailableError(RuntimeError):
    """The requested executor cannot run here (e.g. Ray is not installed)."""


def _failure(fold: int, exc: BaseException) -> dict[str, Any]:
    return {"fold": fold, "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            "traceback": "".join(traceback.format_exception(exc))[-2000:]}


def _require_ray():
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailableError("--executor ray needs Ray: pip install 'snncli[ray]'") from None
    return ray


def _run_with_ray(
    cfg_json: str, k: int, address: str | None, cpus: int, on_fold: Callable[[dict[str, Any]], None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every fold a Ray task; on ``address``'s cluster, or on a local instance started (and stopped) here."""
    ray = _require_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    results, failed = [], []
    try:
        task = ray.remote(num_cpus=cpus, max_retries=0)(run_fold)
        refs = {task.remote(cfg_json, fold, k, cpus): fold for fold in range(k)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            fold = refs[done[0]]
            try:
                results.append(ray.get(done[0]))
                on_fold(results[-1])
            except Exception as exc:  # a RayTaskError wraps the fold's own exception
                cause = getattr(exc, "cause", None) or exc
                failed.append(_failure(fold, cause))
                on_fold(failed[-1])
    finally:
        if started:
            ray.shutdown()
    return results, failed


def crossval(
    cfg: TrainConfig,
    k: int,
    jobs: int = 1,
    on_fold: Callable[[dict[str, Any]], None] = lambda r: None,
    executor: str = "local",
    ray_address: str | None = None,
    cpus_per_fold: int = 1,
) -> dict[str, Any]:
    """Run all folds and write ``crossval.json``.

    Folds run one after another (``jobs == 1``), ``jobs`` at a time in local processes, or as
    Ray tasks (``executor="ray"``) on the cluster at ``ray_address`` or on a local instance.

    Returns:
        ``{"folds": [...], "summary": {...}, "failed": [...], "dir": ...}``; a failed fold appears in
        ``failed`` with its error, the others still run.

    Raises:
        ExecutorUnavailableError: Ray was asked for and is not installed.
    """
    if executor == "ray":
        _require_ray()  # before anything is written
    root = crossval_dir(cfg, k)
    root.mkdir(parents=True, exist_ok=True)
    cfg_json = cfg.model_dump_json()
    results, failed = [], []
    if executor == "ray":
        results, failed = _run_with_ray(cfg_json, k, ray_address, cpus_per_fold, on_fold)
    elif jobs == 1:
        for fold in range(k):
            try:
                results.append(run_fold(cfg_json, fold, k))
                on_fold(results[-1])
            except Exception as exc:  # reported per fold; the command fails at the end
                failed.append(_failure(fold, exc))
                on_fold(failed[-1])
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(run_fold, cfg_json, fold, k, threads): fold for fold in range(k)}
            for future in as_completed(futures):
                try:
                    results.append(future.result())
                    on_fold(results[-1])
                except Exception as exc:
                    failed.append(_failure(futures[future], exc))
                    on_fold(failed[-1])
    results.sort(key=lambda r: r["fold"])
    report = {
        "dir": str(root), "k_folds": k, "config": cfg.model_dump(mode="json"),
        "folds": results, "summary": summarise(results), "failed": sorted(failed, key=lambda f: f["fold"]),
    }
    write_json(root / "crossval.json", report)
    return report
