"""What a trained network does with its inputs: predictions, per-layer spikes, membranes, masks."""

from __future__ import annotations

from typing import Iterable

import torch
import torch.nn as nn

from ..models import logits_of
from .metrics import confusion_matrix


@torch.no_grad()
def predictions(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(predicted, true)`` classes over ``batches`` for a classifier (images -> logits), on the CPU."""
    preds, labels = [], []
    for x, y in batches:
        preds.append(model(x).argmax(1).cpu())
        labels.append(y.cpu())
    return torch.cat(preds), torch.cat(labels)


def confusion(model: nn.Module, batches, num_classes: int) -> torch.Tensor:
    """The ``[C, C]`` confusion matrix (rows true) of ``model`` on ``batches``."""
    pred, true = predictions(model, batches)
    return confusion_matrix(pred, true, num_classes)


@torch.no_grad()
def record(adapter: nn.Module, x: torch.Tensor) -> dict:
    """One recorded forward pass of the adapter's model on ``x`` (one encoding).

    Returns:
        ``{"input": [T, B, ...] encoded input, "hidden": per layer [T, B, ...] spikes (input side
        first, output last), "mem": [T, B, C] output membrane, "rates": per layer mean rate,
        "predicted": [B] the classes the adapter's readout picks from this very pass}``.
    """
    x_seq = adapter.encode(x)
    out = adapter.model(x_seq, record=True)
    hidden = list(out.hidden) if out.hidden is not None else [out.spikes]
    return {
        "predicted": logits_of(out, adapter.readout).argmax(1).cpu(),
        "input": x_seq.detach().float().cpu(),
        "hidden": [h.detach().float().cpu() for h in hidden],
        "mem": out.mem.detach().float().cpu() if out.mem is not None else None,
        "rates": [float(r) for r in out.rates],
    }


def layer_names(model: nn.Module, count: int) -> list[str]:
    """Names for the ``count`` recorded layers: the model's ``layer_names`` if it has them, else
    ``layer 1 .. layer n-1, output``."""
    names = getattr(model, "layer_names", None)
    if callable(names):
        names = names()
    if isinstance(names, (list, tuple)) and len(names) == count:
        return list(names)
    return [f"layer {i + 1}" for i in range(count - 1)] + ["output"]


def connectivity_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every fixed connectivity mask: ``mask`` buffers of masked (G2G) layers, ``[out, in]``."""
    found = {}
    for name, m in model.named_modules():
        mask = getattr(m, "mask", None)
        if isinstance(mask, torch.Tensor) and mask.dim() == 2:
            found[name or "model"] = mask.detach().float().cpu()
    return found


def routing_masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every ``last_mask`` a module kept from the latest forward pass (Flex conv/pool routing),
    averaged over the batch: ``[C, H, W]`` per module (share of samples routed to convolution)."""
    found = {}
    for name, m in model.named_modules():
        mask = getattr(m, "last_mask", None)
        if isinstance(mask, torch.Tensor) and mask.dim() >= 3:
            mask = mask.detach().float().cpu()
            found[name or "model"] = mask.mean(0) if mask.dim() == 4 else mask
    return found
