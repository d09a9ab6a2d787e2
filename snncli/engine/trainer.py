"""The training engine: one loop for every spiking model, resumable at epoch granularity.

The engine never prints: progress goes to the callbacks the caller passes in, results
come back as a dict and into the run folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..data import (
    DataSplits,
    ImageSet,
    broadcast_stats,
    encode,
    iterate_batches,
    load_dataset,
    normalization_stats,
    train_val_split,
)
from ..models import create_model, flex_epoch_stats, is_conv_model, logits_of, model_defaults
from ..models.reference import SnnTorchMLP
from .augment import add_input_noise, random_crop_flip
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import keep_freed_memory, resolve_device, resolve_precision, seed_everything
from .backbone import resnet_features
from .dst import DynamicSparsity
from .writers import write_json, write_jsonl, write_metrics

# Settings that define what a checkpoint contains; a checkpoint whose values differ is foreign.
IDENTITY_KEYS = (
    "dataset", "model", "hidden_dim", "p_inter", "groups", "T", "enc", "beta", "threshold",
    "surrogate", "optimizer", "seed", "use_resnet", "sparsity_mode", "engine",
    "cp", "cg", "update_every", "prune_fraction", "hebb_window", "alpha_reg", "weight_clip",
    "spiking", "use_stbp", "use_flex", "flex_layers", "masking_mechanism", "logits_mechanism", "logits_use_batchnorm",
    "conv_pool_ratio", "width", "dropout", "in_shape", "joint_mechanism", "flex_threshold", "sigmoid_mul_factor",
    "num_spatial_attention_block", "neuron", "init", "normalize", "input_noise", "input_noise_eval", "freeze_first_fc",
    "subset_sampling", "bn_recalibrate",
)


class InputMismatchError(ValueError):
    """The dataset does not fit the configured input shape or class count."""


@dataclass
class Callbacks:
    """Hooks the engine calls; every one is optional. The CLI turns them into progress bars."""

    on_start: Callable[[dict[str, Any]], None] = lambda info: None
    on_epoch_start: Callable[[int, int], None] = lambda epoch, batches: None
    on_batch: Callable[[int, float], None] = lambda batch, loss: None
    on_epoch_end: Callable[[dict[str, Any]], None] = lambda row: None
    on_log: Callable[[str], None] = lambda msg: None


@dataclass
class RunPaths:
    """Where a run lives: ``{out}/{name}/`` with ``{name}.pth``, metrics, result and ``.DONE``."""

    dir: Path
    name: str
    checkpoint: Path = field(init=False)
    done: Path = field(init=False)
    result: Path = field(init=False)

    def __post_init__(self) -> None:
        self.checkpoint = self.dir / f"{self.name}.pth"
        self.done = self.dir / ".DONE"
        self.result = self.dir / "result.json"


def run_paths(cfg: TrainConfig) -> RunPaths:
    name = cfg.run_name()
    return RunPaths(cfg.out / name, name)


def input_stats(cfg: TrainConfig, data: ImageSet) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``(mean, std)`` per input channel when the run normalises its inputs (``--normalize``), else ``None``."""
    if not getattr(cfg, "normalize", False):
        return None
    x = data.x if isinstance(data, ImageSet) else None
    return broadcast_stats(normalization_stats(cfg.dataset, x), data.shape[0])


def build_model(cfg: TrainConfig, data: ImageSet) -> torch.nn.Module:
    """The run's network: every setting whose name is a parameter of the registered variant is passed on."""
    settings = cfg.model_dump(include=set(model_defaults(cfg.model)) - {"in_shape", "num_classes"})
    stats = input_stats(cfg, data)
    if stats is not None:
        settings["input_norm"] = stats
    try:
        model = create_model(cfg.model, in_shape=data.shape, num_classes=data.num_classes, mask_seed=cfg.seed, **settings)
    except ValueError as exc:  # the data does not fit the network (e.g. too small for its downsamplings)
        raise InputMismatchError(f"--model: {cfg.model} on {data.name}: {exc}") from None
    return SnnTorchMLP(model) if cfg.engine == "snntorch" else model


def fit_input(data: ImageSet, cfg: TrainConfig) -> ImageSet:
    """``data`` shaped as the run expects: grey images repeated to ``in_shape``'s 3 channels (a view).

    Raises:
        InputMismatchError: height/width or class count differ from ``in_shape``/``num_classes``.
    """
    if cfg.num_classes is not None and data.num_classes != cfg.num_classes:
        raise InputMismatchError(f"--num-classes: {data.name} has {data.num_classes} classes, the config says {cfg.num_classes}")
    if cfg.in_shape is None or tuple(cfg.in_shape) == data.shape:
        return data
    c, h, w = cfg.in_shape
    if (h, w) != data.shape[1:] or data.shape[0] not in (1, c):
        raise InputMismatchError(
            f"--in-shape: {data.name} images are {data.shape}, the network expects {tuple(cfg.in_shape)} "
            "(only 1 channel can be repeated to more)"
        )
    return dataclasses.replace(data, x=data.x.expand(-1, c, -1, -1))


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based) under ``cfg.lr_schedule``; a pure function, so resuming needs no state."""
    if cfg.lr_schedule == "cosine":
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
    if cfg.lr_schedule == "step":
        return cfg.lr * cfg.lr_gamma ** (epoch // cfg.lr_step)
    return cfg.lr


def _uses_autocast(cfg: TrainConfig, device: torch.device) -> bool:
    # Conv models only (the MLPs choose their own product precision).
    return cfg.amp and device.type == "cuda" and is_conv_model(cfg.model)


def _autocast(cfg: TrainConfig, device: torch.device):
    # bf16 needs no loss scaling, and the LIF state stays fp32 inside lif_sequence.
    if _uses_autocast(cfg, device):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _stack_rates(rates: tuple[torch.Tensor, ...], device: torch.device) -> torch.Tensor:
    """Per-layer firing rates as one tensor (empty for ANNs, which have none)."""
    return torch.stack([r.float() for r in rates]) if rates else torch.zeros(0, device=device)


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    # One generator per epoch, derived from (seed, epoch): a resumed run draws the same
    # shuffles and rate-coded spikes as an uninterrupted one without saving RNG state.
    return torch.Generator(device=device).manual_seed(seed * 100_003 + epoch)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, data: ImageSet, cfg: TrainConfig, device: torch.device, seed_offset: int = 0
) -> dict[str, Any]:
    """Loss, accuracy and per-layer firing rate of ``model`` on ``data`` (no gradients)."""
    model.eval()
    gen = epoch_generator(cfg.seed, 10_000 + seed_offset, device)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    rates = None
    n = 0
    noise = _noise_scale(model) if getattr(cfg, "input_noise_eval", False) else None
    for x, y in iterate_batches(data, max(cfg.batch_size, 512), shuffle=False, device=device):
        if noise is not None:
            x = add_input_noise(x, cfg.input_noise, gen, scale=noise or None)
        with _autocast(cfg, device):
            out = model(encode(x, cfg.T, cfg.enc, cfg.enc_scale, cfg.enc_bias, generator=gen))
        logits = logits_of(out, cfg.loss).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
        batch_rates = _stack_rates(out.rates, device) * len(y)
        rates = batch_rates if rates is None else rates + batch_rates
        n += len(y)
    if n == 0:
        return {"loss": float("nan"), "acc": float("nan"), "rates": []}
    return {
        "loss": loss_sum.item() / n,
        "acc": correct.item() / n,
        "rates": [r / n for r in rates.tolist()],
    }


def _noise_scale(model: torch.nn.Module) -> list[float]:
    """The input normalisation's per-channel std (the seed's noise is in normalised units); empty without one."""
    std = getattr(model, "input_std", None)
    return std.flatten().tolist() if isinstance(std, torch.Tensor) else []


def _check_identity(stored: dict[str, Any], cfg: TrainConfig, path: Path) -> None:
    current = cfg.model_dump(mode="json")
    # A key the stored config lacks predates that setting: the run used its default (as JSON).
    defaults = json.loads(json.dumps({k: f.default for k, f in TrainConfig.model_fields.items()}, default=str))
    diff = [k for k in IDENTITY_KEYS if stored.get(k, defaults.get(k)) != current.get(k)]
    if diff:
        k = diff[0]
        raise CheckpointError(
            f"{path}: belongs to a different run ({k}={stored.get(k)!r}, this run has {current.get(k)!r}); "
            "use another --out"
        )


def train(
    cfg: TrainConfig,
    callbacks: Callbacks | None = None,
    data: DataSplits | None = None,
    val: ImageSet | None = None,
    paths: RunPaths | None = None,
) -> dict[str, Any]:
    """Train (or resume, or skip) the run that ``cfg`` describes.

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
        CheckpointError: an existing checkpoint is unreadable or belongs to another run
            (it is left untouched).
    """
    cb = callbacks or Callbacks()
    paths = paths or run_paths(cfg)
    if paths.done.exists() and paths.result.exists() and not cfg.force:
        # The seed's run names omit e.g. the seed and width: never hand back another setting's result.
        config_file = paths.dir / "config.json"
        stored = json.loads(config_file.read_text()) if config_file.exists() else {}
        _check_identity(stored, cfg, config_file)
        result = json.loads(paths.result.read_text())
        result["status"] = "skipped"
        cb.on_log(f"{paths.dir} is finished (.DONE); skipping (use --force to re-run)")
        return result

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    if device.type == "cpu":
        keep_freed_memory()
    splits, backbone_hash = data, None
    if splits is None:
        splits = load_dataset(cfg.dataset, cfg.data_root, subset_sampling=cfg.subset_sampling)
        if cfg.use_resnet:
            splits, backbone_hash = resnet_features(cfg.dataset, splits, cfg.backbone, device)
    if val is not None:
        train_set, val_set = splits.train, val
    elif cfg.val_fraction > 0:
        train_set, val_set = train_val_split(splits.train, cfg.val_fraction, cfg.seed)
    else:
        train_set, val_set = splits.train, None
    train_set, test_set = fit_input(train_set, cfg).to(device), fit_input(splits.test, cfg).to(device)
    val_set = fit_input(val_set, cfg).to(device) if val_set is not None else None

    seed_everything(cfg.seed)
    model = build_model(cfg, train_set).to(device)
    if hasattr(model, "set_precision"):
        model.set_precision(precision)
    else:  # the snnTorch reference and the conv models: fp32 (conv models: bf16 autocast on CUDA with --amp)
        precision = "bf16-autocast" if _uses_autocast(cfg, device) else "fp32"
    optimizer = build_optimizer(cfg, model)
    dst = DynamicSparsity(model, cfg, device) if cfg.sparsity_mode == "dynamic" else None

    start_epoch, history = 0, []
    resumed = False
    if paths.checkpoint.exists() and not cfg.force:
        ckpt = load_checkpoint(paths.checkpoint, map_location=device)
        _check_identity(ckpt.get("config", {}), cfg, paths.checkpoint)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, history = int(ckpt["epoch"]), list(ckpt["history"])
        if dst is not None:
            dst.load_state_dict(ckpt["dst"])
        resumed = True
        cb.on_log(f"resuming {paths.name} after epoch {start_epoch}")
    paths.done.unlink(missing_ok=True)
    paths.dir.mkdir(parents=True, exist_ok=True)
    write_json(paths.dir / "config.json", cfg.model_dump(mode="json"))

    kept, total = model.connections() if hasattr(model, "connections") else (0, 0)
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "run_dir": str(paths.dir), "name": paths.name, "device": str(device), "precision": precision,
        "parameters": n_params, "connections": kept, "sparsity": 1 - kept / total if total else 0.0,
        "train_samples": len(train_set), "val_samples": len(val_set) if val_set is not None else 0,
        "test_samples": len(test_set), "data_source": splits.source, "backbone_hash": backbone_hash,
        "resumed_from_epoch": start_epoch if resumed else None,
    }
    cb.on_start(info)

    batches_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    if cfg.max_batches:
        batches_per_epoch = min(batches_per_epoch, cfg.max_batches)
    for epoch in range(start_epoch, cfg.epochs):
        row = _train_epoch(model, optimizer, train_set, cfg, device, epoch, batches_per_epoch, cb, dst)
        if getattr(cfg, "bn_recalibrate", 0):
            row["bn_recalibrated_batches"] = recalibrate_batchnorm(model, train_set, cfg, device, epoch)
        if val_set is not None:
            val = evaluate(model, val_set, cfg, device, seed_offset=1)
            row.update(val_loss=val["loss"], val_acc=val["acc"])
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


@torch.no_grad()
def recalibrate_batchnorm(model: torch.nn.Module, data: ImageSet, cfg: TrainConfig, device: torch.device, epoch: int) -> int:
    """Re-estimate every BatchNorm's running statistics on ``cfg.bn_recalibrate`` training batches ("precise BN").

    BatchNorm keeps an exponential average (momentum 0.1) of batch statistics that lag the weights;
    after a short or fast-moving training the eval-mode network reads stale statistics (measured:
    a Flex VGG-6 at 88% in training mode scored 13% in eval mode after 32 Adam steps, 93% after
    recalibration). Here the averages restart and become the plain mean over the batches, the
    weights unchanged; dropout and Flex statistics stay off (only the BatchNorm layers run in
    training mode). Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021.

    Returns:
        The number of batches used (0 without BatchNorm layers).
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return 0
    was_training = model.training
    momenta = [m.momentum for m in norms]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.train()
    gen = epoch_generator(cfg.seed, 20_000 + epoch, device)
    used = 0
    try:
        for x, _ in iterate_batches(data, cfg.batch_size, shuffle=True, generator=gen, device=device):
            if used >= cfg.bn_recalibrate:
                break
            with _autocast(cfg, device):
                model(encode(x, cfg.T, cfg.enc, cfg.enc_scale, cfg.enc_bias, generator=gen))
            used += 1
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)
    return used


def spikes_per_sample(hidden: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The seed's spike-activity term: spikes of every layer (output included) over all T steps, per sample.

    ``sum_l sum_t sum_i S_l[t, b, i]`` averaged over the batch ``b``; differentiable through the
    surrogate. ``alpha_reg`` times this is added to the loss.
    """
    batch = hidden[0].shape[1]
    return sum(h.float().sum() for h in hidden) / batch


@torch.no_grad()
def clip_parameters(model: torch.nn.Module, bound: float) -> None:
    """Clamp every trainable parameter (weights and biases) to ``[-bound, bound]`` in place."""
    for p in model.parameters():
        if p.requires_grad:
            p.clamp_(-bound, bound)


def _train_epoch(
    model, optimizer, data: ImageSet, cfg: TrainConfig, device: torch.device,
    epoch: int, n_batches: int, cb: Callbacks, dst: DynamicSparsity | None = None,
) -> dict[str, Any]:
    model.train()
    gen = epoch_generator(cfg.seed, epoch, device)
    for group in optimizer.param_groups:
        group["lr"] = lr_at(cfg, epoch)
    regularise = cfg.enforce_sparsity and epoch >= cfg.warmup_epochs
    cb.on_epoch_start(epoch, n_batches)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    rates = None
    seen = 0
    start = time.perf_counter()
    for i, (x, y) in enumerate(iterate_batches(data, cfg.batch_size, shuffle=True, generator=gen, device=device)):
        if i >= n_batches:
            break
        if cfg.augment == "crop-flip":
            x = random_crop_flip(x, gen)
        if getattr(cfg, "input_noise", 0) > 0:
            x = add_input_noise(x, cfg.input_noise, gen, scale=_noise_scale(model) or None)
        x_seq = encode(x, cfg.T, cfg.enc, cfg.enc_scale, cfg.enc_bias, generator=gen)
        with _autocast(cfg, device):
            out = model(x_seq, record=(dst is not None and dst.needs_activity) or cfg.alpha_reg > 0)
        logits = logits_of(out, cfg.loss).float()
        loss = F.cross_entropy(logits, y)
        if cfg.alpha_reg > 0:
            loss = loss + cfg.alpha_reg * spikes_per_sample(out.hidden)
        layer_rates = list(out.rates)
        if regularise:
            loss = loss + cfg.rate_reg * torch.stack(layer_rates[:-1]).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if cfg.weight_clip is not None:
            clip_parameters(model, cfg.weight_clip)
        if dst is not None:
            dst.observe(x_seq, out.hidden)
            for r in dst.after_step(optimizer):
                cb.on_log(
                    f"dst step {r['step']} layer {r['layer']}: pruned {r['pruned']}, grown {r['grown']}, "
                    f"sparsity {r['sparsity']:.4f}"
                    + (f", corr kept {r['corr_kept']:.3f} grown {r['corr_grown']:.3f}" if r.get("corr_grown") is not None else "")
                )
        with torch.no_grad():
            loss_sum += loss.detach() * len(y)
            correct += (logits.argmax(1) == y).sum()
            r = _stack_rates(tuple(layer_rates), device).detach() * len(y)
            rates = r if rates is None else rates + r
        seen += len(y)
        # One host sync per batch is negligible on CPU; on CUDA report every 20 batches.
        if device.type != "cuda" or i % 20 == 0:
            cb.on_batch(i, loss.item())
    elapsed = time.perf_counter() - start
    per_layer = [round(v / max(seen, 1), 5) for v in rates.tolist()] if rates is not None else []
    return {
        "epoch": epoch + 1,
        "train_loss": loss_sum.item() / max(seen, 1),
        "train_acc": correct.item() / max(seen, 1),
        **{f"rate_l{i + 1}": r for i, r in enumerate(per_layer)},
        **flex_epoch_stats(model),
        "time_s": round(elapsed, 3),
        "samples_per_s": round(seen / elapsed, 2) if elapsed > 0 else None,
        "lr": optimizer.param_groups[0]["lr"],
        "regularised": regularise,
    }
