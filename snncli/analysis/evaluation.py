"""Loss and accuracy of a classifier (images -> logits) over a fixed list of batches."""

from __future__ import annotations

from typing import Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F


@torch.no_grad()
def loss_and_accuracy(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy over ``batches`` (weighted by batch size)."""
    loss, correct, n = 0.0, 0, 0
    for x, y in batches:
        logits = model(x)
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(1) == y).sum())
        n += len(y)
    if n == 0:
        raise ValueError("no samples to evaluate")
    return loss / n, correct / n
