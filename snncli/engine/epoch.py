"""One training epoch and the pieces of the optimisation it uses (schedule, optimizer, penalties, clipping)."""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..data import ImageSet, iterate_batches
from ..models import flex_epoch_stats, is_conv_model, logits_of
from .augment import add_input_noise, random_crop_flip
from .callbacks import Callbacks
from .distributed import SERIAL, World
from .dst import DynamicSparsity
from .penalties import rate_target_penalty, seed_rate_schedule
from .guards import DivergedError


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's shuffles and rate-coded spikes (evaluation uses epochs 10_000 + k).

    Derived from ``(seed, epoch)``, so a resumed run draws the same as an uninterrupted one
    without saving RNG state.
    """
    return seed * 100_003 + epoch


def part_seed(seed: int, epoch: int, batch: int, part: int) -> int:
    """The global generator's seed for one part of a split batch (``--nproc``/``--micro-batches``): layers that
    draw from it (dropout) then draw the same on one process and on ``N`` ranks."""
    return ((epoch_seed(seed, epoch) * 1_000_003 + batch) * 4096 + part) % 2**63


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(epoch_seed(seed, epoch))


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based) under ``cfg.lr_schedule``; a pure function, so resuming needs no state."""
    if cfg.lr_schedule == "cosine":
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
    if cfg.lr_schedule == "step":
        return cfg.lr * cfg.lr_gamma ** (epoch // cfg.lr_step)
    return cfg.lr


def uses_autocast(cfg: TrainConfig, device: torch.device) -> bool:
    """Whether the run computes in bf16 autocast: conv models on CUDA with ``amp`` (the MLPs choose their
    own product precision)."""
    return cfg.amp and device.type == "cuda" and is_conv_model(cfg.model)


def autocast(cfg: TrainConfig, device: torch.device):
    # bf16 needs no loss scaling, and the LIF state stays fp32 inside lif_sequence.
    if uses_autocast(cfg, device):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def stack_rates(rates: tuple[torch.Tensor, ...], device: torch.device) -> torch.Tensor:
    """Per-layer firing rates as one tensor (empty for ANNs, which have none)."""
    return torch.stack([r.float() for r in rates]) if rates else torch.zeros(0, device=device)


def fusable(params: list[torch.Tensor]) -> bool:
    """Whether torch's fused (one kernel per step) optimizers take these parameters: dense floating
    tensors on the CPU or a CUDA device. Same update as the per-tensor loop up to rounding; on CPU
    measured 2.8x (784-512-10) and 3.3x (3 x 2048 hidden) faster per Adam step (benchmarks/README.md)."""
    return bool(params) and all(
        p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point and p.layout == torch.strided for p in params
    )


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    fused = fusable(params) or None  # None: torch's own default elsewhere (DirectML, MPS)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, fused=fused)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)


def spike_loss(out, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean cross-entropy of a batch: on spike counts / summed membrane, or (``rate``) at every step, averaged over T.

    ``rate`` is snnTorch's ``ce_rate_loss``, ``(1/T) sum_t CE(S_out[t], y)``: what the G2G seed trains its
    ResNet-feature runs with.
    """
    if kind == "rate":
        spikes = out.spikes.float()
        return F.cross_entropy(spikes.flatten(0, 1), y.repeat(spikes.shape[0]))
    return F.cross_entropy(logits_of(out, kind).float(), y)


def spikes_per_sample(hidden: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Spike-activity term ``all-spikes``: spikes of every layer (output included) over all T steps, per sample.

    ``sum_l sum_t sum_i S_l[t, b, i]`` averaged over the batch ``b``; differentiable through the
    surrogate.
    """
    batch = hidden[0].shape[1]
    return sum(h.float().sum() for h in hidden) / batch


def output_spike_mean(spikes: torch.Tensor) -> torch.Tensor:
    """Spike-activity term ``output-mean`` (the plasticity seed's ``spk_rec.mean()``): the output layer's rate.

    ``(1 / (T B C)) sum_t sum_b sum_c S_out[t, b, c]``, differentiable through the surrogate. For the
    seed's 784-512-10 network it is about ``1 / (T (512 r_hidden / r_out + 10))`` of ``all-spikes``
    (three orders of magnitude smaller), so the same alpha is a far weaker penalty.
    """
    return spikes.float().mean()


def activity_penalty(out: Any, term: str) -> torch.Tensor:
    """The term ``alpha_reg`` multiplies: :func:`output_spike_mean` or :func:`spikes_per_sample`."""
    return output_spike_mean(out.spikes) if term == "output-mean" else spikes_per_sample(out.hidden)


@torch.no_grad()
def clip_parameters(model: torch.nn.Module, bound: float, biases: bool = True) -> None:
    """Clamp every trainable parameter to ``[-bound, bound]`` in place; with ``biases=False`` only the
    others (the plasticity seed clamps ``fc.weight`` alone)."""
    for name, p in model.named_parameters():
        if p.requires_grad and (biases or not name.rsplit(".", 1)[-1].startswith("bias")):
            p.clamp_(-bound, bound)


def noise_scale(model: torch.nn.Module) -> list[float]:
    """The input normalisation's per-channel std (the seed's noise is in normalised units); empty without one."""
    std = getattr(model, "input_std", None)
    return std.flatten().tolist() if isinstance(std, torch.Tensor) else []


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
            with autocast(cfg, device):
                model(cfg.encoding(x, generator=gen))
            used += 1
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)
    return used


def train_epoch(
    model, optimizer, data: ImageSet, cfg: TrainConfig, device: torch.device,
    epoch: int, n_batches: int, cb: Callbacks, dst: DynamicSparsity | None = None, world: World = SERIAL,
) -> dict[str, Any]:
    """One pass of ``n_batches`` shuffled batches; returns the epoch's metrics row.

    With ``world`` parallel (``--nproc``) this rank trains on its share of every batch and the row's sums are
    the whole batch's (:mod:`snncli.engine.distributed`); ``cfg.micro_batches`` splits the share further.
    """
    model.train()
    forward = world.forward_model(model)
    gen = epoch_generator(cfg.seed, epoch, device)
    for group in optimizer.param_groups:
        group["lr"] = lr_at(cfg, epoch)
    regularise = cfg.enforce_sparsity and epoch >= cfg.warmup_epochs
    rate_weight, rate_target = seed_rate_schedule(epoch + 1, cfg.epochs, cfg.warmup_epochs)
    seed_penalty = regularise and cfg.rate_penalty == "seed" and rate_weight > 0
    cb.on_epoch_start(epoch, n_batches)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    rates = None
    seen = 0
    start = time.perf_counter()
    for i, (x_all, y_all) in enumerate(world.batches(data, cfg.batch_size, gen, device)):
        if i >= n_batches:
            break
        if cfg.augment == "crop-flip" and not cfg.use_resnet:  # features are never cropped or flipped
            x_all = random_crop_flip(x_all, gen)
        if cfg.input_noise > 0:
            x_all = add_input_noise(x_all, cfg.input_noise, gen, scale=noise_scale(model) or None)
        x_seq_all = cfg.encoding(x_all, generator=gen)
        optimizer.zero_grad(set_to_none=True)
        parts = world.parts(len(y_all), cfg.micro_batches)
        activity = []
        for j, (lo, hi, weight) in enumerate(parts):
            whole = (lo, hi) == (0, len(y_all))
            x_seq = x_seq_all if whole else x_seq_all[:, lo:hi].contiguous()
            y = y_all if whole else y_all[lo:hi]
            if not whole:  # dropout's masks: the part's own, wherever (on whichever rank) the part runs
                torch.manual_seed(part_seed(cfg.seed, epoch, i, world.rank * cfg.micro_batches + j))
            with world.no_sync(j < len(parts) - 1):
                record = ((dst is not None and dst.needs_activity)
                          or (cfg.alpha_reg > 0 and cfg.alpha_reg_term == "all-spikes") or seed_penalty)
                with autocast(cfg, device):
                    out = forward(x_seq, record=record)
                logits = logits_of(out, cfg.loss).float()
                loss = spike_loss(out, y, cfg.loss)
                if cfg.alpha_reg > 0:
                    loss = loss + cfg.alpha_reg * activity_penalty(out, cfg.alpha_reg_term)
                layer_rates = list(out.rates)
                if seed_penalty:
                    loss = loss + rate_weight * rate_target_penalty(out.hidden[:-1], rate_target)
                elif regularise and cfg.rate_penalty == "mean":
                    loss = loss + cfg.rate_reg * torch.stack(layer_rates[:-1]).sum()
                (loss if weight == 1.0 else loss * weight).backward()
            if dst is not None and dst.needs_activity:
                rows = dst.activity(x_seq, out.hidden)
                activity.append(rows if weight else [c[:0] for c in rows])
            if weight == 0.0:  # a rank without samples in this (last) batch: it only joined the all-reduce
                continue
            with torch.no_grad():
                loss_sum += loss.detach() * len(y)
                correct += (logits.argmax(1) == y).sum()
                r = stack_rates(tuple(layer_rates), device).detach() * len(y)
                rates = r if rates is None else rates + r
            seen += len(y)
        optimizer.step()
        if cfg.weight_clip is not None:
            clip_parameters(model, cfg.weight_clip)
        if dst is not None:
            if dst.needs_activity:  # the whole batch's activity, in its order, on every rank: the same rewiring
                dst.observe_activity([world.gather_rows(torch.cat(c)) for c in zip(*activity)])
            for r in dst.after_step(optimizer):
                cb.on_log(
                    f"dst step {r['step']} layer {r['layer']}: pruned {r['pruned']}, grown {r['grown']}, "
                    f"sparsity {r['sparsity']:.4f}"
                    + (f", corr kept {r['corr_kept']:.3f} grown {r['corr_grown']:.3f}" if r.get("corr_grown") is not None else "")
                )
        # One host sync per batch is negligible on CPU; on CUDA report (and check) every 20 batches,
        # the trainer checks the weights after the epoch.
        if device.type != "cuda" or i % 20 == 0:
            value = loss.item()
            if not math.isfinite(value):
                raise DivergedError(f"epoch {epoch + 1}, batch {i + 1}: the loss is {value}")
            cb.on_batch(i, value)
    elapsed = time.perf_counter() - start
    if world.parallel:  # the whole batches' sums: every rank gets the same row
        n_rates = rates.numel() if rates is not None else 0
        sums = world.sum(torch.cat([torch.stack([loss_sum.double(), correct.double(),
                                                 torch.tensor(float(seen), dtype=torch.float64, device=device)]),
                                    rates.double() if rates is not None else torch.zeros(0, dtype=torch.float64, device=device)]))
        loss_sum, correct, seen = sums[0], sums[1].long(), int(sums[2].item())
        rates = sums[3:3 + n_rates] if n_rates else None
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
        **({"rate_weight": rate_weight, "rate_target": rate_target} if seed_penalty else {}),
    }
