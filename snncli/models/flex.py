r"""The Flex layer (PlasticFlex): every output unit routed to a convolution or to a max-pool.

From the same input :math:`x`, a ``Flex2D`` computes a convolution :math:`c = W * x`
(selectivity) and a max-pool :math:`p` with the same kernel, stride and padding (invariance),
and mixes them per output unit with a mask :math:`m \in [0, 1]`:

.. math::

    y = m \odot c + (1 - m) \odot p, \qquad m = g(\ell), \qquad \ell = \mathrm{BN}(p - \vartheta)

The logits :math:`\ell` (``THRESHOLD`` mechanism) compare the pooled input with a learned
threshold :math:`\vartheta` per output unit ``[C, H, W]``, optionally batch-normalised. The
masking function :math:`g` is one of :data:`MASKINGS`. A unit with :math:`m > 0.5` counts as
routed to the convolution: its share is the layer's *conv ratio*; the share of mask values
within 0.05 of 0 or 1 is its *binariness* (how decided the routing is).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

MASKINGS = ("SIGMOID_HARD", "SIGMOID_SOFT", "STE", "NONE")
LOGITS = ("THRESHOLD",)
BINARY_TOLERANCE = 0.05


def hard_sigmoid(logits: torch.Tensor) -> torch.Tensor:
    """``clamp(l / 6 + 1/2, 0, 1)``: its gradient is the slope 1/6 inside (-3, 3), 0 outside."""
    return (logits / 6 + 0.5).clamp(0.0, 1.0)


def straight_through_step(logits: torch.Tensor) -> torch.Tensor:
    """``1[l > 0]`` forward, the identity backward (straight-through estimator, Bengio et al. 2013).

    ``l - l.detach()`` is exactly 0 in the forward pass, so the value is the exact step, while
    autograd sees ``+ l``: a gradient of 1, and a second derivative of 0.
    """
    return (logits > 0).to(logits.dtype) + (logits - logits.detach())


def make_mask(logits: torch.Tensor, mechanism: str) -> torch.Tensor:
    """The routing mask of ``logits`` under one of :data:`MASKINGS` (``NONE``: all ones)."""
    if mechanism == "SIGMOID_HARD":
        return hard_sigmoid(logits)
    if mechanism == "SIGMOID_SOFT":
        return torch.sigmoid(logits)
    if mechanism == "STE":
        return straight_through_step(logits)
    if mechanism == "NONE":
        return torch.ones_like(logits)
    raise ValueError(f"unknown masking mechanism {mechanism!r}; choose from {', '.join(MASKINGS)}")


def match_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Map ``x``'s channels onto ``channels`` by nearest index (a pure selection, linear in ``x``).

    The pool keeps the input's channels; the convolution may have more or fewer.
    """
    c = x.shape[1]
    if c == channels:
        return x
    idx = torch.div(torch.arange(channels, device=x.device) * c, channels, rounding_mode="floor")
    return x.index_select(1, idx)


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class Flex2D(nn.Module):
    """A convolution and a max-pool of the same geometry, mixed per unit by a learned mask.

    Args:
        in_channels: input channels.
        out_channels: output channels (the pool's channels are mapped onto them).
        kernel_size: of both the convolution and the pool.
        in_hw: input height and width (the threshold has one value per output unit).
        stride: of both paths.
        padding: of both paths (the pool pads with -inf).
        masking: one of :data:`MASKINGS`.
        logits: one of :data:`LOGITS`.
        logits_bn: batch-normalise the logits.
        conv_pool_ratio: initial routing ``a : b`` (share ``a / (a + b)`` to the convolution).
            With batch-normalised logits (about N(0, 1) per channel) the BN shift starts at
            the normal quantile of that share; without, the threshold is set from the first
            training batch to the matching per-unit quantile of the pooled input.

    Attributes:
        last_mask: the (detached) mask of the latest forward pass, ``[B, C, H, W]``; over a
            spiking sequence, the mean over time steps (the share of steps routed to the
            convolution).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, in_hw: Sequence[int], stride: int = 1,
        padding: int = 0, masking: str = "SIGMOID_HARD", logits: str = "THRESHOLD", logits_bn: bool = True,
        conv_pool_ratio: Sequence[float] = (1.0, 1.0),
    ):
        super().__init__()
        if masking not in MASKINGS:
            raise ValueError(f"unknown masking mechanism {masking!r}; choose from {', '.join(MASKINGS)}")
        if logits not in LOGITS:
            raise ValueError(f"unknown logits mechanism {logits!r}; choose from {', '.join(LOGITS)}")
        a, b = (float(v) for v in conv_pool_ratio)
        if a < 0 or b < 0 or a + b <= 0:
            raise ValueError(f"conv_pool_ratio must be two non-negative numbers, not both 0; got {a}:{b}")
        self.masking, self.logits_mechanism = masking, logits
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.target_ratio = a / (a + b)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        h, w = (conv_out_size(s, kernel_size, stride, padding) for s in in_hw)
        if h < 1 or w < 1:
            raise ValueError(f"Flex2D: a {tuple(in_hw)} input is too small for kernel {kernel_size}, stride {stride}")
        self.out_shape = (out_channels, h, w)
        self.threshold = nn.Parameter(torch.zeros(1, out_channels, h, w))
        self.bn = nn.BatchNorm2d(out_channels) if logits_bn else None
        # Without BN the threshold is calibrated on the first training batch; saved, so a resumed run keeps it.
        self.register_buffer("calibrated", torch.tensor(logits_bn or masking == "NONE"))
        if self.bn is not None:
            with torch.no_grad():
                self.bn.bias.fill_(_probit(self.target_ratio))
        self.last_mask: torch.Tensor | None = None
        self._last_counts = torch.zeros(3)  # conv, binary, total of the latest forward
        self._epoch_counts = torch.zeros(3)  # the same, summed over training forwards since the last reset

    def forward(self, x: torch.Tensor, steps: int = 1) -> torch.Tensor:
        """``x``: ``[N, C_in, H, W]`` (``N = steps * B`` for a flattened spiking sequence) -> ``[N, C_out, H', W']``."""
        conv = self.conv(x)
        if self.masking == "NONE":
            self._record(torch.ones_like(conv[:, :1]).expand_as(conv), steps)
            return conv
        pool = match_channels(F.max_pool2d(x, self.kernel_size, self.stride, self.padding), conv.shape[1])
        if self.training and not bool(self.calibrated):
            self._calibrate(pool)
        logits = pool - self.threshold
        if self.bn is not None:
            logits = self.bn(logits)
        mask = make_mask(logits, self.masking)
        self._record(mask, steps)
        return mask * conv + (1 - mask) * pool

    @torch.no_grad()
    def _calibrate(self, pool: torch.Tensor) -> None:
        # The per-unit (1 - ratio) quantile over the batch: kthvalue, as quantile() refuses large inputs.
        flat = pool.float().flatten(1)
        k = min(max(round((1 - self.target_ratio) * len(flat)), 1), len(flat))
        self.threshold.copy_(flat.kthvalue(k, dim=0).values.view_as(self.threshold))
        self.calibrated.fill_(True)

    @torch.no_grad()
    def _record(self, mask: torch.Tensor, steps: int) -> None:
        m = mask.detach()
        self.last_mask = m.reshape(steps, -1, *m.shape[1:]).mean(0) if steps > 1 else m
        near = ((m < BINARY_TOLERANCE) | (m > 1 - BINARY_TOLERANCE)).sum()
        counts = torch.stack([(m > 0.5).sum(), near, torch.tensor(m.numel(), device=m.device)]).float()
        self._last_counts = counts
        if self.training:
            self._epoch_counts = self._epoch_counts.to(m.device) + counts

    def conv_ratio(self) -> float:
        """Share of mask values above 0.5 (units routed to the convolution) in the latest forward."""
        c = self._last_counts.tolist()
        return c[0] / c[2] if c[2] else float("nan")

    def binariness(self) -> float:
        """Share of mask values within 0.05 of 0 or 1 in the latest forward."""
        c = self._last_counts.tolist()
        return c[1] / c[2] if c[2] else float("nan")

    def epoch_stats(self, reset: bool = True) -> dict[str, float]:
        """Conv ratio and binariness over every training forward since the last reset."""
        c = self._epoch_counts.tolist()
        if reset:
            self._epoch_counts = torch.zeros(3)
        total = c[2] or float("nan")
        return {"conv_ratio": c[0] / total, "binariness": c[1] / total}

    def extra_repr(self) -> str:
        return (f"masking={self.masking}, logits={self.logits_mechanism}, bn={self.bn is not None}, "
                f"target_conv_ratio={self.target_ratio:.3f}")


def _probit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return NormalDist().inv_cdf(p)


def flex_layers(model: nn.Module) -> list[Flex2D]:
    """Every Flex layer of ``model``, input side first."""
    return [m for m in model.modules() if isinstance(m, Flex2D)]


def flex_epoch_stats(model: nn.Module) -> dict[str, float]:
    """Per Flex layer its epoch conv ratio and binariness (flat keys for a metrics row), then resets them.

    Keys: ``flex{i}_conv_ratio``, ``flex{i}_binariness`` (1-based), ``conv_ratio_target``; empty without Flex layers.
    """
    layers = flex_layers(model)
    row: dict[str, float] = {}
    for i, layer in enumerate(layers, 1):
        stats = layer.epoch_stats()
        row[f"flex{i}_conv_ratio"] = _round(stats["conv_ratio"])
        row[f"flex{i}_binariness"] = _round(stats["binariness"])
    if layers:
        row["conv_ratio_target"] = _round(layers[0].target_ratio)
    return row


def _round(v: float) -> float:
    return v if math.isnan(v) else round(v, 5)
