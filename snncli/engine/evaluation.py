"""Evaluation of a model on a dataset, through the classifier adapter (as attacks and analysis see it)."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ..config import TrainConfig
from ..data import ImageSet, iterate_batches
from ..models import SNNClassifier, logits_of
from .augment import add_input_noise
from .epoch import autocast, epoch_generator, epoch_seed, noise_scale, spike_loss, stack_rates

#: Evaluation draws its rate-coded spikes from "epoch" 10_000 + k: k = 1 validation, 2 test.
EVAL_EPOCH = 10_000


def eval_classifier(model: torch.nn.Module, cfg: TrainConfig, seed_offset: int = 0) -> SNNClassifier:
    """``model`` behind the classifier adapter, encoding as ``cfg`` does with evaluation's own seed."""
    return SNNClassifier.from_run(model, cfg, seed=epoch_seed(cfg.seed, EVAL_EPOCH + seed_offset))


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, data: ImageSet, cfg: TrainConfig, device: torch.device, seed_offset: int = 0,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Loss, accuracy and per-layer firing rate of ``model`` on ``data`` (no gradients).

    ``on_batch(done, total)`` is called after every batch (progress; no device sync).
    """
    model.eval()
    clf = eval_classifier(model, cfg, seed_offset)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    rates = None
    n = 0
    # The seed's loaders added their noise to test images too (--input-noise-eval): its own generator.
    noise = epoch_generator(cfg.seed, EVAL_EPOCH + 100 + seed_offset, device) if cfg.input_noise_eval else None
    size = max(cfg.batch_size, 512)
    total = math.ceil(len(data) / size)
    for i, (x, y) in enumerate(iterate_batches(data, size, shuffle=False, device=device)):
        if noise is not None:
            x = add_input_noise(x, cfg.input_noise, noise, scale=noise_scale(model) or None)
        with autocast(cfg, device):
            out = clf.sequence(x)
        logits = logits_of(out, cfg.loss).float()
        loss_sum += spike_loss(out, y, cfg.loss) * len(y)
        correct += (logits.argmax(1) == y).sum()
        batch_rates = stack_rates(out.rates, device) * len(y)
        rates = batch_rates if rates is None else rates + batch_rates
        n += len(y)
        if on_batch is not None:
            on_batch(i + 1, total)
    if n == 0:
        return {"loss": float("nan"), "acc": float("nan"), "rates": []}
    return {
        "loss": loss_sum.item() / n,
        "acc": correct.item() / n,
        "rates": [r / n for r in rates.tolist()],
    }
