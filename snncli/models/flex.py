r"""The Flex layer (PlasticFlex): every output unit routed to a convolution or to a max-pool.

From the same input :math:`x`, a ``Flex2D`` computes a convolution :math:`c = W * x`
(selectivity) and a max-pool :math:`p` with the same kernel, stride and padding (invariance;
padded with :math:`-\infty`), its channels linearly interpolated onto the convolution's, and
mixes them per output unit with a mask :math:`m`:

.. math::

    y = m \odot c + (1 - m) \odot p, \qquad m = g(\ell), \qquad \ell = \mathrm{BN}(f(x, p))

The logits :math:`f` (default ``THRESHOLD``: :math:`p - \vartheta`, a learned threshold per
output unit) and the masking function :math:`g` (default ``SIGMOID_HARD``) come from the
registries in :mod:`snncli.models.routing`; a *joint* (``CHANNELWISE_MAXPOOL``:
:math:`y = \max(c, p)`) replaces both.

Two statistics of the mask describe the routing (both logged per layer and epoch):

- *conv ratio*: the share of units with :math:`m > 0.5` (routed to the convolution);
- *binariness*: ours, the share of mask values within 0.05 of 0 or 1 (how decided the routing
  is), and the seed's, :math:`\overline{|m - 1/2|} \cdot 2` (its ``measure_homogeneity``; 1 for
  a binary mask, 0 when every unit sits at 1/2).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .routing import (
    create_logits,
    joint_fn,
    list_joints,
    list_logits,
    list_masks,
    logits_name,
    make_mask,
    resolve_name,
)

BINARY_TOLERANCE = 0.05
#: Flex layers at every convolution (the seed) or only at the 2x2 stride-2 downsamplings
FLEX_LAYERS = ("all", "downsample")


def interpolate_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Resample ``x``'s channel axis to ``channels`` by linear interpolation (half-pixel centres).

    The seed's ``channel_interpolate``: ``F.interpolate(..., mode="bilinear")`` along the channel
    axis with ``align_corners=False``. Output channel ``j`` reads input position
    ``(j + 1/2) C_in / C_out - 1/2``, clamped to ``[0, C_in - 1]``; an equal count is the identity.
    A fixed linear map of ``x``: differentiable, and exact where it lands on an input channel.
    """
    c = x.shape[1]
    if c == channels:
        return x
    pos = ((torch.arange(channels, dtype=torch.float64) + 0.5) * c / channels - 0.5).clamp(0, c - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=c - 1)
    w = (pos - lo).to(x.dtype).to(x.device).view(1, -1, 1, 1)
    lo, hi = lo.to(x.device), hi.to(x.device)
    return x.index_select(1, lo) * (1 - w) + x.index_select(1, hi) * w


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


class Flex2D(nn.Module):
    """A convolution and a max-pool of the same geometry, mixed per unit by a learned mask.

    Args:
        in_channels: input channels.
        out_channels: output channels (the pool's channels are interpolated onto them).
        kernel_size: of both the convolution and the pool.
        in_hw: input height and width (a threshold has one value per output unit).
        stride: of both paths.
        padding: of both paths (the pool pads with -inf).
        masking: a registered masking mechanism (:func:`~snncli.models.routing.list_masks`).
        logits: a registered logits mechanism (``THRESHOLD``, ``SPATIAL_ATTENTION``).
        logits_bn: batch-normalise the logits.
        conv_pool_ratio: initial routing ``a : b`` (share ``a / (a + b)`` to the convolution).
            With batch-normalised logits (about N(0, 1) per channel) the BN shift starts at
            the normal quantile of that share; without, a ``THRESHOLD`` is set from the first
            training batch to the matching per-unit quantile of the pooled input. ``1:1`` is
            the seed's start (it reads no ratio).
        joint: ``NONE`` (logits and mask) or a registered joint (``CHANNELWISE_MAXPOOL``).
        threshold: ``learned`` or the seed's ``redrawn`` (see :class:`~snncli.models.routing.ThresholdLogits`).
        sigmoid_mul_factor: ``k`` of ``SIGMOID_MUL``.
        attention_blocks: blocks of ``SPATIAL_ATTENTION`` logits.

    Attributes:
        last_mask: the (detached) mask of the latest forward pass, ``[B, C, H, W]``; over a
            spiking sequence, the mean over time steps (the share of steps routed to the
            convolution).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, in_hw: Sequence[int], stride: int = 1,
        padding: int = 0, masking: str = "SIGMOID_HARD", logits: str = "THRESHOLD", logits_bn: bool = True,
        conv_pool_ratio: Sequence[float] = (1.0, 1.0), joint: str = "NONE", threshold: str = "learned",
        sigmoid_mul_factor: float = 50.0, attention_blocks: int = 1,
    ):
        super().__init__()
        masking = resolve_name(masking, list_masks(), "masking mechanism")
        logits = logits_name(logits)
        joint = resolve_name(joint, list_joints(), "joint mechanism")
        a, b = (float(v) for v in conv_pool_ratio)
        if a < 0 or b < 0 or a + b <= 0:
            raise ValueError(f"conv_pool_ratio must be two non-negative numbers, not both 0; got {a}:{b}")
        self.masking, self.logits_mechanism, self.joint = masking, logits, joint
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.sigmoid_mul_factor = float(sigmoid_mul_factor)
        self.target_ratio = a / (a + b)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        h, w = (conv_out_size(s, kernel_size, stride, padding) for s in in_hw)
        if h < 1 or w < 1:
            raise ValueError(f"Flex2D: a {tuple(in_hw)} input is too small for kernel {kernel_size}, stride {stride}")
        self.out_shape = (out_channels, h, w)
        routed = masking != "NONE" and joint == "NONE"
        self.logits = create_logits(logits, in_channels, out_channels, (kernel_size, stride, padding), (h, w),
                                    threshold=threshold, blocks=attention_blocks) if routed else None
        self.bn = nn.BatchNorm2d(out_channels) if (logits_bn and routed) else None
        # Without BN a learned threshold is calibrated on the first training batch; saved, so a resumed run keeps it.
        calibrate = routed and not logits_bn and logits == "THRESHOLD" and threshold == "learned"
        self.register_buffer("calibrated", torch.tensor(not calibrate))
        if self.bn is not None:
            with torch.no_grad():
                self.bn.bias.fill_(_probit(self.target_ratio))
        self.last_mask: torch.Tensor | None = None
        self._last_counts = torch.zeros(4)  # conv, near-binary, sum |m - 1/2| * 2, total of the latest forward
        self._epoch_counts = torch.zeros(4)  # the same, summed over training forwards since the last reset

    @property
    def threshold(self) -> torch.Tensor | None:
        """The ``THRESHOLD`` logits' threshold ``[1, C, H, W]`` (``None`` for other mechanisms)."""
        return getattr(self.logits, "threshold", None)

    def forward(self, x: torch.Tensor, steps: int = 1) -> torch.Tensor:
        """``x``: ``[N, C_in, H, W]`` (``N = steps * B`` for a flattened spiking sequence) -> ``[N, C_out, H', W']``."""
        conv = self.conv(x)
        if self.masking == "NONE" and self.joint == "NONE":
            self._record(torch.ones_like(conv[:, :1]).expand_as(conv), steps)
            return conv
        pool = interpolate_channels(F.max_pool2d(x, self.kernel_size, self.stride, self.padding), conv.shape[1])
        join = joint_fn(self.joint)
        if join is not None:
            out, mask = join(pool, conv)
            self._record(mask, steps)
            return out
        if self.training and not bool(self.calibrated):
            self._calibrate(pool)
        logits = self.logits(x, pool)
        if self.bn is not None:
            logits = self.bn(logits)
        mask = make_mask(logits, self.masking, sigmoid_mul_factor=self.sigmoid_mul_factor)
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
        homogeneity = (m.float() - 0.5).abs().sum() * 2
        counts = torch.stack([(m > 0.5).sum().float(), near.float(), homogeneity,
                              torch.ones((), device=m.device) * m.numel()])  # no float(): torch.export keeps B symbolic
        self._last_counts = counts
        if self.training:
            self._epoch_counts = self._epoch_counts.to(m.device) + counts

    def _ratios(self, c: list[float]) -> dict[str, float]:
        total = c[3] or float("nan")
        return {"conv_ratio": c[0] / total, "binariness": c[1] / total, "seed_binariness": c[2] / total}

    def conv_ratio(self) -> float:
        """Share of mask values above 0.5 (units routed to the convolution) in the latest forward."""
        return self._ratios(self._last_counts.tolist())["conv_ratio"]

    def binariness(self) -> float:
        """Share of mask values within 0.05 of 0 or 1 in the latest forward."""
        return self._ratios(self._last_counts.tolist())["binariness"]

    def seed_binariness(self) -> float:
        """The seed's binariness ``mean(|m - 1/2|) * 2`` of the latest forward."""
        return self._ratios(self._last_counts.tolist())["seed_binariness"]

    def epoch_stats(self, reset: bool = True) -> dict[str, float]:
        """Conv ratio and both binariness measures over every training forward since the last reset."""
        c = self._epoch_counts.tolist()
        if reset:
            self._epoch_counts = torch.zeros(4)
        return self._ratios(c)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Checkpoints written before the logits registry kept the threshold on the layer itself.
        old = prefix + "threshold"
        if old in state_dict and prefix + "logits.threshold" not in state_dict:
            state_dict[prefix + "logits.threshold"] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        parts = [f"kernel={self.kernel_size}, stride={self.stride}, padding={self.padding}"]
        if self.joint != "NONE":
            parts.append(f"joint={self.joint}")
        else:
            parts.append(f"masking={self.masking}, logits={self.logits_mechanism}, bn={self.bn is not None}")
            parts.append(f"target_conv_ratio={self.target_ratio:.3f}")
        return ", ".join(parts)


def _probit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return NormalDist().inv_cdf(p)


def flex_layers(model: nn.Module) -> list[Flex2D]:
    """Every Flex layer of ``model``, input side first."""
    return [m for m in model.modules() if isinstance(m, Flex2D)]


def flex_epoch_stats(model: nn.Module) -> dict[str, float]:
    """Per Flex layer its epoch conv ratio and both binariness measures (flat keys for a metrics row), then resets them.

    Keys: ``flex{i}_conv_ratio``, ``flex{i}_binariness``, ``flex{i}_seed_binariness`` (1-based),
    and, over all Flex layers, ``flex_mean_conv_ratio``, ``flex_mean_binariness``,
    ``flex_mean_seed_binariness`` (the seed's "Mean Conv Ratio" and "Mean Binariness": unweighted
    means over layers) and ``conv_ratio_target``; empty without Flex layers.
    """
    layers = flex_layers(model)
    row: dict[str, float] = {}
    means: dict[str, list[float]] = {"conv_ratio": [], "binariness": [], "seed_binariness": []}
    for i, layer in enumerate(layers, 1):
        stats = layer.epoch_stats()
        for key, value in stats.items():
            row[f"flex{i}_{key}"] = _round(value)
            if not math.isnan(value):
                means[key].append(value)
    if layers:
        for key, values in means.items():
            row[f"flex_mean_{key}"] = _round(sum(values) / len(values)) if values else float("nan")
        row["conv_ratio_target"] = _round(layers[0].target_ratio)
    return row


def _round(v: float) -> float:
    return v if math.isnan(v) else round(v, 5)


__all__ = ["FLEX_LAYERS", "Flex2D", "flex_epoch_stats", "flex_layers", "interpolate_channels", "list_logits", "list_masks"]
