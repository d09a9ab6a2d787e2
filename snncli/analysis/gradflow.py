"""Gradient flow: how large the loss gradient is at every layer of a trained network.

For every trainable parameter tensor the gradient of the cross-entropy is taken on each of
several batches; reported per tensor are the mean absolute gradient, the largest absolute
gradient and the L2 norm, averaged over the batches (the largest is the max over batches).
Weights a G2G mask removes are left out (their gradient is 0 by construction).

A tensor is flagged ``non-finite`` when any of its statistics is NaN or infinite (a broken gradient is
neither vanishing nor exploding, and never ``ok``); otherwise

- ``vanishing`` when its mean absolute gradient is below ``vanish`` (default ``1e-7``, a step
  that no optimiser at a usual learning rate turns into a weight change) or below
  ``1/ratio`` (default 1/1000) of the median over tensors;
- ``exploding`` when its largest absolute gradient is above ``explode`` (default ``1e3``) or
  its mean is above ``ratio`` times the median.

In spiking networks vanishing gradients usually mean silent layers (no membrane near the
threshold, so the surrogate derivative is ~0) or a surrogate too narrow for the membrane's
spread; exploding ones a surrogate too steep, or long T with beta near 1.
"""

from __future__ import annotations

import math
import statistics
from typing import Callable, Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F

VANISH = 1e-7
EXPLODE = 1e3
RATIO = 1e3


def gradient_flow(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    vanish: float = VANISH,
    explode: float = EXPLODE,
    ratio: float = RATIO,
    on_batch: Callable[[int], None] | None = None,
) -> dict:
    """Per-parameter gradient statistics over ``batches`` and the flags above.

    Args:
        model: images -> logits (the classifier adapter); its mode is left as it was, and
            its ``.grad`` fields are cleared afterwards.

    Returns:
        ``{"layers": [{"name", "shape", "mean_abs", "max_abs", "norm", "flag"}], "batches",
        "vanishing": [names], "exploding": [names], "thresholds": {...}}``.
    """
    named = [(n.removeprefix("model."), p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("the model has no trainable parameters")
    masks = {}
    for m in model.modules():
        mask, weight = getattr(m, "mask", None), getattr(m, "weight", None)
        if isinstance(mask, torch.Tensor) and isinstance(weight, torch.Tensor) and mask.shape == weight.shape:
            masks[id(weight)] = mask
    sums = {n: {"mean_abs": 0.0, "norm": 0.0, "max_abs": 0.0} for n, _ in named}
    count = 0
    try:
        for i, (x, y) in enumerate(batches):
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            for n, p in named:
                g = p.grad.detach().float() if p.grad is not None else torch.zeros_like(p, dtype=torch.float32)
                if id(p) in masks:  # statistics over the connections that exist (G2G layers)
                    g = g[masks[id(p)].bool()]
                s = sums[n]
                s["mean_abs"] += g.abs().mean().item()
                s["norm"] += g.norm().item()
                top = g.abs().max().item() if g.numel() else 0.0
                s["max_abs"] = top if math.isnan(top) or top > s["max_abs"] else s["max_abs"]  # max() would drop a NaN
            count += 1
            if on_batch is not None:
                on_batch(i)
    finally:
        model.zero_grad(set_to_none=True)
    if count == 0:
        raise ValueError("no batches to measure gradients on")
    rows = []
    for n, p in named:
        s = sums[n]
        rows.append({"name": n, "shape": list(p.shape), "mean_abs": s["mean_abs"] / count,
                     "max_abs": s["max_abs"], "norm": s["norm"] / count})
    finite = [r["mean_abs"] for r in rows if all(math.isfinite(r[k]) for k in ("mean_abs", "max_abs", "norm"))]
    median = statistics.median(finite) if finite else math.nan
    for r in rows:
        if not all(math.isfinite(r[k]) for k in ("mean_abs", "max_abs", "norm")):
            r["flag"] = "non-finite"  # NaN or inf gradients: neither small nor large, broken
        elif r["mean_abs"] < vanish or (median > 0 and r["mean_abs"] < median / ratio):
            r["flag"] = "vanishing"
        elif r["max_abs"] > explode or (median > 0 and r["mean_abs"] > median * ratio):
            r["flag"] = "exploding"
        else:
            r["flag"] = "ok"
    return {
        "layers": rows, "batches": count,
        "vanishing": [r["name"] for r in rows if r["flag"] == "vanishing"],
        "exploding": [r["name"] for r in rows if r["flag"] == "exploding"],
        "non_finite_gradients": [r["name"] for r in rows if r["flag"] == "non-finite"],
        "thresholds": {"vanish": vanish, "explode": explode, "ratio": ratio, "median_mean_abs": median},
    }
