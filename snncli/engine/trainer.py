"""The training engine: one loop for every spiking model, resumable at epoch granularity.

:func:`train` returns, resumes, extends or starts the run its config describes, in the run's folder
(:class:`~snncli.engine.runs.RunPaths`). A folder holding another setting is never returned nor
resumed (:mod:`snncli.config.identity`). The engine never prints: progress goes to the callbacks the
caller passes in, results come back as a dict and into the run folder.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, TypedDict

import torch

from ..config import TrainConfig
from ..config.identity import describe, differences
from ..data import DataSplits, ImageSet
from . import distributed
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
from .guards import DivergedError, detail, memory_guard, model_non_finite, named, non_finite
from .health import HealthMonitor
from .inputs import InputMismatchError, build_model, fit_input, load_inputs  # noqa: F401  (re-exported)
from .locks import RunLock
from .loggers import check_logger, with_logger
from .provenance import provenance
from .runs import BrokenFileError, RunPaths, read_json_object, run_paths, stored_settings
from .writers import write_json, write_jsonl, write_marker, write_metrics

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
    config: dict[str, Any]  # the settings, as in config.json
    provenance: dict[str, Any]  # packages, Python, CPU, device, command line, git revision (engine.provenance)
    health: dict[str, Any]  # ok, findings: silent/saturated layers, loss at ln C, accuracy at chance (engine.health)


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
    stored = read_json_object(config_file) if config_file.exists() else {}
    _check_identity(stored, cfg, config_file)
    result = read_json_object(paths.result)
    done = stored.get("epochs", result.get("epochs", cfg.epochs))
    if not isinstance(done, int) or isinstance(done, bool):
        raise BrokenFileError(f"{config_file}: 'epochs' is not a whole number; {START_OVER}")
    if done < cfg.epochs:
        return None  # asked for more epochs: extend it from its last checkpoint
    return result


def _phase(cb: Callbacks, name: str):
    return lambda done, total: cb.on_progress(name, done, total)


def connections(model: torch.nn.Module) -> tuple[int, int]:
    """(weights that exist, weights the dense network of the same shape has): a masked model counts its
    masks; any other (conv models) every weight of its convolutions and linear layers."""
    if hasattr(model, "connections"):
        return model.connections()
    n = sum(m.weight.numel() for m in model.modules()
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)))
    return n, n


def is_finished(cfg: TrainConfig, paths: RunPaths | None = None) -> bool:
    """Whether the run of ``cfg`` is finished, with these settings and as many epochs."""
    try:
        return _finished(paths or run_paths(cfg), cfg) is not None
    except (CheckpointError, BrokenFileError):  # another setting's folder, or a damaged one: not this run's result
        return False


def train(
    cfg: TrainConfig,
    callbacks: Callbacks | None = None,
    data: DataSplits | None = None,
    val: ImageSet | None = None,
    paths: RunPaths | None = None,
) -> TrainResult:
    """Train (or resume, extend, or return) the run that ``cfg`` describes.

    The run folder is locked while this runs (:class:`~snncli.engine.locks.RunLock`): a second process
    asking for the same folder is refused, naming this one.

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
        CheckpointError: an existing checkpoint is unreadable, forged, holds non-finite weights, or
            belongs to another setting (it is left untouched).
        RunLockedError: another process is writing in the run folder.
        DivergedError: the loss or the weights became non-finite; the last good checkpoint is kept.
        AllocationError: the network or its inputs do not fit in memory.
    """
    cb = callbacks or Callbacks()
    paths = paths or run_paths(cfg)
    check_logger(cfg.logger)  # a missing tracker stops the run before anything is written
    world = distributed.from_environment(cfg.device)  # started by torchrun: this process is one rank
    if world is not None:
        if cfg.nproc > 1:
            raise distributed.DistributedError("--nproc: under torchrun the workers are torchrun's "
                                               "(--nproc-per-node); leave --nproc at 1")
        with RunLock(paths.dir) if world.writer else contextlib.nullcontext() as lock:
            return _train(cfg, cb if world.writer else Callbacks(), data, val, paths, lock, world)
    with RunLock(paths.dir) as lock:
        if cfg.nproc > 1:  # spawn the ranks here; this process holds the lock and relays rank 0's progress
            finished = _finished(paths, cfg)
            result = (distributed.spawn(_train_rank, (cfg, data, val, paths), cfg.nproc, cb) if finished is None
                      else _train(cfg, cb, data, val, paths, lock))
            if paths.checkpoint.exists():
                lock.keep_folder()
            return result
        return _train(cfg, cb, data, val, paths, lock)


def _train_rank(cfg: TrainConfig, data: DataSplits | None, val: ImageSet | None, paths: RunPaths, cb: Callbacks,
                world: distributed.World) -> TrainResult:
    """One rank of ``--nproc`` (spawned by :func:`snncli.engine.distributed.spawn`; the launcher holds the lock)."""
    return _train(cfg, cb, data, val, paths, None, world)


def _train(cfg: TrainConfig, cb: Callbacks, data: DataSplits | None, val: ImageSet | None, paths: RunPaths,
           lock: RunLock | None, world: distributed.World = distributed.SERIAL) -> TrainResult:
    finished = world.broadcast(_finished(paths, cfg) if world.writer else None)
    if finished is not None:
        finished["status"] = "skipped"
        cb.on_log(f"{paths.dir} is finished (.DONE); skipping (use --force to re-run)")
        return finished

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = world.place(resolve_device(cfg.device))
    precision = resolve_precision(cfg.precision, device)
    if device.type == "cpu":
        keep_freed_memory()
    with memory_guard(f"{paths.name}: the data and the network"):
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
    if world.writer and paths.checkpoint.exists() and not cfg.force:
        start_epoch, history = _resume(paths, cfg, model, optimizer, dst, device)
        cb.on_log(f"resuming {paths.name} after epoch {start_epoch}")
    if world.parallel:  # rank 0's weights, optimizer and DST state everywhere, then DDP
        start_epoch, history = distributed.share_state(world, model, optimizer, dst, start_epoch, history)
        world.wrap(model, device)
    if world.writer:
        paths.done.unlink(missing_ok=True)

    # What rebuilds the network without its dataset (load_run, export), and what produced the run.
    input_spec = {"shape": list(train_set.shape), "num_classes": train_set.num_classes,
                  "classes": list(train_set.classes), "dataset": train_set.name}
    origin = provenance(device)
    kept, total = connections(model)
    info = {
        "run_dir": str(paths.dir), "name": paths.name, "device": str(device), "precision": precision,
        "parameters": sum(p.numel() for p in model.parameters()), "sizes": list(getattr(model, "sizes", [])) or None,
        "connections": kept, "density": kept / total if total else None, "sparsity": 1 - kept / total if total else 0.0,
        "mixing": model.mixing() if hasattr(model, "mixing") else None,
        "train_samples": len(train_set), "val_samples": len(val_set) if val_set is not None else 0,
        "test_samples": len(test_set), "classes": train_set.num_classes, "data_source": inputs.source,
        "backbone_hash": inputs.backbone_hash,
        "resumed_from_epoch": start_epoch if start_epoch else None, "workers": world.size,
    }
    cb.on_start(info)

    health = HealthMonitor(train_set.num_classes, cfg)
    cb, logger = with_logger(cb, cfg.logger if world.writer else "none", paths.dir)  # rank 0 alone logs
    try:
        history = _epochs(cfg, cb, model, optimizer, dst, train_set, val_set, test_set, device, paths, lock,
                          start_epoch, history, input_spec, origin, health, world)
    finally:
        if logger is not None:
            logger.close()

    last = history[-1]
    result = {
        **info, "status": "finished", "epochs": cfg.epochs,
        "test_acc": last.get("test_acc"), "test_loss": last.get("test_loss"),
        "val_acc": last.get("val_acc"), "val_loss": last.get("val_loss"),
        "best_val_acc": max((r.get("val_acc") or 0.0) for r in history),
        "train_acc": last.get("train_acc"), "samples_per_s": last.get("samples_per_s"),
        "time_s": sum(r.get("time_s") or 0.0 for r in history),
        "firing_rates": [v for k, v in last.items() if k.startswith("rate_l")],
        "config": cfg.model_dump(mode="json"), "provenance": origin,
    }
    if world.writer:
        result["health"], warnings = health.finish(last)
        for warning in warnings:
            cb.on_warning(warning)
        write_json(paths.result, result)
        write_marker(paths.done)
    return world.broadcast(result)  # every rank returns rank 0's result (torchrun: each one prints it)


def _epochs(cfg: TrainConfig, cb: Callbacks, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            dst: DynamicSparsity | None, train_set: ImageSet, val_set: ImageSet | None, test_set: ImageSet,
            device: torch.device, paths: RunPaths, lock: RunLock, start_epoch: int, history: list[dict[str, Any]],
            input_spec: dict[str, Any], origin: dict[str, Any], health: HealthMonitor,
            world: distributed.World = distributed.SERIAL) -> list[dict[str, Any]]:
    """Train epochs ``start_epoch + 1 .. cfg.epochs``, checkpointing and writing the metrics after each."""
    batches_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_batches:
        batches_per_epoch = min(batches_per_epoch, cfg.max_batches)
    config_written = False
    for epoch in range(start_epoch, cfg.epochs):
        kept_note = f"the checkpoint of epoch {epoch} is kept" if epoch else "nothing was saved"
        try:
            with memory_guard(f"{paths.name}: one training step"):
                row = train_epoch(model, optimizer, train_set, cfg, device, epoch, batches_per_epoch, cb, dst, world)
                if cfg.bn_recalibrate:
                    row["bn_recalibrated_batches"] = recalibrate_batchnorm(model, train_set, cfg, device, epoch)
                if val_set is not None and world.writer:
                    val_metrics = evaluate(model, val_set, cfg, device, seed_offset=1, on_batch=_phase(cb, "evaluate val"))
                    row.update(val_loss=val_metrics["loss"], val_acc=val_metrics["acc"])
                if world.writer:
                    test = evaluate(model, test_set, cfg, device, seed_offset=2, on_batch=_phase(cb, "evaluate test"))
                    row.update(test_loss=test["loss"], test_acc=test["acc"])
        except DivergedError as exc:
            raise DivergedError(f"{paths.name}: {exc}; stopped, {kept_note} (try a lower --lr, or --weight-clip)") from None
        bad = model_non_finite(model)
        if bad or not math.isfinite(row["train_loss"]):
            what = f"NaN or inf in {named(bad)}" if bad else f"the mean training loss is {row['train_loss']}"
            raise DivergedError(f"{paths.name}: epoch {epoch + 1} diverged ({what}); stopped, {kept_note} "
                                "(try a lower --lr, or --weight-clip)")
        history.append(row)
        if not world.writer:  # rank 0 alone writes
            cb.on_epoch_end(row)
            continue
        save_checkpoint(paths.checkpoint, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1,
            "history": history, "config": cfg.model_dump(mode="json"), "input": input_spec, "provenance": origin,
            **({"dst": dst.state_dict()} if dst is not None else {}),
        })
        if lock is not None:
            lock.keep_folder()
        if not config_written:  # only once the run has a checkpoint: a run that fails first leaves nothing
            write_json(paths.dir / "config.json", cfg.model_dump(mode="json"))
            config_written = True
        write_metrics(paths.dir, history)
        if dst is not None:
            write_jsonl(paths.dir / "dst.jsonl", dst.log)
        cb.on_epoch_end(row)
        for warning in health.observe(row):
            cb.on_warning(warning)

    if not config_written and world.writer:
        write_json(paths.dir / "config.json", cfg.model_dump(mode="json"))
    return history


def _refuse(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path}: {why}; {START_OVER}")


def _resume(paths: RunPaths, cfg: TrainConfig, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            dst: DynamicSparsity | None, device: torch.device) -> tuple[int, list[dict[str, Any]]]:
    """Load the run's checkpoint into ``model``, ``optimizer`` and ``dst``; returns ``(epochs done, history)``.

    A checkpoint is refused (one line, nothing changed) when it is unreadable or not snn's, belongs to
    other settings, holds non-finite numbers, or does not fit the network and optimizer ``cfg`` builds.
    """
    path = paths.checkpoint
    try:
        ckpt = load_checkpoint(path, map_location=device)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc}; {START_OVER}") from None
    epoch, history, stored = ckpt.get("epoch"), ckpt.get("history"), ckpt.get("config", {})
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise _refuse(path, "holds no valid epoch count")
    if not isinstance(stored, dict):
        raise _refuse(path, "holds no valid configuration")
    _check_identity(stored, cfg, path, done_epochs=epoch)
    if (not isinstance(history, list) or len(history) != epoch or not all(isinstance(r, dict) for r in history)
            or [r.get("epoch") for r in history] != list(range(1, epoch + 1))):
        raise _refuse(path, f"its history does not list epochs 1 to {epoch}")
    bad = non_finite({"model": ckpt.get("model"), "optimizer": ckpt.get("optimizer")})
    if bad:
        raise _refuse(path, f"holds non-finite numbers (NaN or inf in {named(bad)}): the run diverged before it was saved")
    settings = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    try:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        _check_optimizer_state(optimizer)
        if dst is not None:
            dst.load_state_dict(ckpt["dst"])
    except (KeyError, ValueError, RuntimeError, TypeError, AttributeError, IndexError) as exc:
        raise _refuse(path, f"does not fit the network and optimizer of these settings ({detail(exc)})") from None
    for group, own in zip(optimizer.param_groups, settings):
        group.update(own)  # hyperparameters come from the settings (the same, by identity), never from the file
    return epoch, list(history)


def _check_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Every per-parameter state tensor (moments, momentum) has its parameter's shape."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != p.shape:
                    raise ValueError(f"optimizer state {key} has shape {tuple(value.shape)}, its parameter {tuple(p.shape)}")
