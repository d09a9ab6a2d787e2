"""The training engine: one loop for every spiking model, resumable at epoch granularity.

:func:`train` returns, resumes, extends or starts the run its config describes, in the run's folder
(:class:`~snncli.engine.runs.RunPaths`). A folder holding another setting is never returned nor
resumed (:mod:`snncli.config.identity`). The engine never prints: progress goes to the callbacks the
caller passes in, results come back as a dict and into the run folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypedDict

import torch

from ..config import TrainConfig
from ..config.identity import describe, differences
from ..data import DataSplits, ImageSet
from .callbacks import Callbacks
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import keep_freed_memory, resolve_device, resolve_precision, seed_everything
from .dst import DynamicSparsity
from .epoch import (  # noqa: F401  (re-exported: the loop's pieces, for callers and tests)
    build_optimizer,
    clip_parameters,
    epoch_generator,
    lr_at,
    recalibrate_batchnorm,
    spikes_per_sample,
    train_epoch,
    uses_autocast,
)
from .evaluation import evaluate
from .inputs import InputMismatchError, build_model, fit_input, load_inputs  # noqa: F401  (re-exported)
from .runs import RunPaths, run_paths, stored_settings
from .writers import write_json, write_jsonl, write_metrics

START_OVER = "nothing was changed: use another --out, or --force to start over there"


class TrainResult(TypedDict, total=False):
    """What :func:`train` returns (and writes to ``result.json``); ``--json`` prints it."""

    status: str  # finished | skipped
    run_dir: str
    name: str
    epochs: int
    test_acc: float
    test_loss: float
    val_acc: float | None
    val_loss: float | None
    best_val_acc: float
    train_acc: float
    samples_per_s: float | None
    time_s: float
    firing_rates: list[float]
    resumed_from_epoch: int | None


def _check_identity(stored: dict[str, Any], cfg: TrainConfig, path: Path, done_epochs: int | None = None) -> None:
    """Refuse a run folder holding results of other settings (:func:`snncli.config.identity.differences`)."""
    stored = stored_settings(stored)
    diff = differences(stored, cfg, done_epochs)
    if diff:
        raise CheckpointError(f"{path}: belongs to a different run {describe(stored, cfg, diff)}; {START_OVER}")


def _finished(paths: RunPaths, cfg: TrainConfig) -> dict[str, Any] | None:
    """The stored result of a finished run of ``cfg`` (``None``: not finished, or fewer epochs than asked)."""
    if not (paths.done.exists() and paths.result.exists()) or cfg.force:
        return None
    config_file = paths.dir / "config.json"
    stored = json.loads(config_file.read_text()) if config_file.exists() else {}
    _check_identity(stored, cfg, config_file)
    result = json.loads(paths.result.read_text())
    if int(stored.get("epochs", result.get("epochs", cfg.epochs))) < cfg.epochs:
        return None  # asked for more epochs: extend it from its last checkpoint
    return result


def is_finished(cfg: TrainConfig, paths: RunPaths | None = None) -> bool:
    """Whether the run of ``cfg`` is finished, with these settings and as many epochs."""
    try:
        return _finished(paths or run_paths(cfg), cfg) is not None
    except CheckpointError:  # another setting's folder: not this run's result
        return False


def train(
    cfg: TrainConfig,
    callbacks: Callbacks | None = None,
    data: DataSplits | None = None,
    val: ImageSet | None = None,
    paths: RunPaths | None = None,
) -> TrainResult:
    """Train (or resume, extend, or return) the run that ``cfg`` describes.

    Args:
        cfg: validated configuration.
        callbacks: progress hooks.
        data: already-loaded data (tests, cross-validation), used as given (with ``use_resnet``
            it must already be the ResNet features); loaded from ``cfg`` otherwise.
        val: the validation set to use instead of holding out ``cfg.val_fraction`` of the
            training set (cross-validation folds).
        paths: the run folder to use instead of ``{out}/{run_name}`` (cross-validation folds).

    Returns:
        The result dict, also written to ``result.json`` in the run folder.

    Raises:
        CheckpointError: an existing checkpoint is unreadable or belongs to another setting
            (it is left untouched).
    """
    cb = callbacks or Callbacks()
    paths = paths or run_paths(cfg)
    finished = _finished(paths, cfg)
    if finished is not None:
        finished["status"] = "skipped"
        cb.on_log(f"{paths.dir} is finished (.DONE); skipping (use --force to re-run)")
        return finished

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    if device.type == "cpu":
        keep_freed_memory()
    inputs = load_inputs(cfg, device, data=data, val=val)
    train_set, test_set = inputs.train.to(device), inputs.test.to(device)
    val_set = inputs.val.to(device) if inputs.val is not None else None

    seed_everything(cfg.seed)
    model = build_model(cfg, train_set).to(device)
    if hasattr(model, "set_precision"):
        model.set_precision(precision)
    else:  # the snnTorch reference and the conv models: fp32 (conv models: bf16 autocast on CUDA with --amp)
        precision = "bf16-autocast" if uses_autocast(cfg, device) else "fp32"
    optimizer = build_optimizer(cfg, model)
    dst = DynamicSparsity(model, cfg, device) if cfg.sparsity_mode == "dynamic" else None

    start_epoch, history = 0, []
    if paths.checkpoint.exists() and not cfg.force:
        try:
            ckpt = load_checkpoint(paths.checkpoint, map_location=device)
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; {START_OVER}") from None
        _check_identity(ckpt.get("config", {}), cfg, paths.checkpoint, done_epochs=int(ckpt["epoch"]))
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, history = int(ckpt["epoch"]), list(ckpt["history"])
        if dst is not None:
            dst.load_state_dict(ckpt["dst"])
        cb.on_log(f"resuming {paths.name} after epoch {start_epoch}")
    paths.done.unlink(missing_ok=True)
    paths.dir.mkdir(parents=True, exist_ok=True)
    write_json(paths.dir / "config.json", cfg.model_dump(mode="json"))

    kept, total = model.connections() if hasattr(model, "connections") else (0, 0)
    info = {
        "run_dir": str(paths.dir), "name": paths.name, "device": str(device), "precision": precision,
        "parameters": sum(p.numel() for p in model.parameters()), "connections": kept,
        "sparsity": 1 - kept / total if total else 0.0,
        "train_samples": len(train_set), "val_samples": len(val_set) if val_set is not None else 0,
        "test_samples": len(test_set), "data_source": inputs.source, "backbone_hash": inputs.backbone_hash,
        "resumed_from_epoch": start_epoch if start_epoch else None,
    }
    cb.on_start(info)

    batches_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_batches:
        batches_per_epoch = min(batches_per_epoch, cfg.max_batches)
    for epoch in range(start_epoch, cfg.epochs):
        row = train_epoch(model, optimizer, train_set, cfg, device, epoch, batches_per_epoch, cb, dst)
        if cfg.bn_recalibrate:
            row["bn_recalibrated_batches"] = recalibrate_batchnorm(model, train_set, cfg, device, epoch)
        if val_set is not None:
            val_metrics = evaluate(model, val_set, cfg, device, seed_offset=1)
            row.update(val_loss=val_metrics["loss"], val_acc=val_metrics["acc"])
        test = evaluate(model, test_set, cfg, device, seed_offset=2)
        row.update(test_loss=test["loss"], test_acc=test["acc"])
        history.append(row)
        save_checkpoint(paths.checkpoint, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
            "history": history, "config": cfg.model_dump(mode="json"),
            **({"dst": dst.state_dict()} if dst is not None else {}),
        })
        write_metrics(paths.dir, history)
        if dst is not None:
            write_jsonl(paths.dir / "dst.jsonl", dst.log)
        cb.on_epoch_end(row)

    last = history[-1]
    result = {
        **info, "status": "finished", "epochs": cfg.epochs,
        "test_acc": last["test_acc"], "test_loss": last["test_loss"],
        "val_acc": last.get("val_acc"), "val_loss": last.get("val_loss"),
        "best_val_acc": max((r.get("val_acc") or 0.0) for r in history),
        "train_acc": last["train_acc"], "samples_per_s": last["samples_per_s"],
        "time_s": sum(r["time_s"] for r in history),
        "firing_rates": [v for k, v in last.items() if k.startswith("rate_l")],
    }
    write_json(paths.result, result)
    paths.done.touch()
    return result
