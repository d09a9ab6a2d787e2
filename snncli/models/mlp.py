"""Spiking MLPs: the G2G seed's dense baseline and G2GNet variants, and the plasticity seed's 784-512-10.

Every layer is ``MaskedLinear`` followed by a LIF population run over the whole sequence
at once (:func:`snncli.neurons.lif_sequence`): one matmul per layer over all T*B rows and
a fused LIF recurrence, instead of a Python loop around every layer.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
import torch.nn as nn

from ..neurons import LIF, LIFParams, spike_rate
from ..neurons.events import DEFAULT_MAX_RATE
from ..sparsity import assign_groups, g2g_mask
from ._registry import register_model
from .layers import MaskedLinear


class SNNOutput(NamedTuple):
    """What a spiking model returns for an input sequence.

    Attributes:
        spikes: output spikes ``[T, B, C]``.
        mem: output membrane potential ``[T, B, C]``.
        rates: mean firing rate of every layer (spikes per neuron per step), input side first;
            differentiable, for firing-rate regularisation.
        hidden: spike sequences of every layer, input side first, output last, when the
            forward pass was asked to ``record`` them; ``None`` otherwise, so that training
            does not keep T x B x N tensors alive only for reporting.
    """

    spikes: torch.Tensor
    mem: torch.Tensor
    rates: tuple[torch.Tensor, ...]
    hidden: tuple[torch.Tensor, ...] | None = None


def logits_of(out: SNNOutput, loss_kind: str) -> torch.Tensor:
    """Class scores ``[B, C]`` from a spiking output: spike counts (``"count"``) or time-summed membrane."""
    return out.spikes.sum(0) if loss_kind == "count" else out.mem.sum(0)


def is_time_constant(x_seq: torch.Tensor) -> bool:
    """True for a ``[T, ...]`` sequence that repeats one step by a stride-0 view (constant-current encoding)."""
    return x_seq.dim() > 1 and x_seq.shape[0] > 1 and x_seq.stride(0) == 0


class SpikingMLP(nn.Module):
    """Fully connected LIF network: ``in -> hidden... -> classes``, every layer spiking.

    Args:
        sizes: population sizes, input first, classes last (e.g. ``[784, 2048, 2048, 10]``).
        masks: per layer a ``[out, in]`` mask or ``None`` (dense).
        lif: neuron parameters, the same for every layer (initial values when learned).
        T: default number of time steps (used by encoders and adapters).
        learn_beta: learn each layer's decay ``beta`` (snnTorch's ``Leaky(learn_beta=True)``).
        learn_threshold: learn each layer's firing threshold.
        per_neuron: a learned ``beta``/``threshold`` holds one value per neuron instead of one per layer.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        masks: Sequence[torch.Tensor | None] | None = None,
        lif: LIFParams = LIFParams(),
        T: int = 25,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        per_neuron: bool = False,
    ):
        super().__init__()
        masks = list(masks) if masks is not None else [None] * (len(sizes) - 1)
        self.sizes, self.lif, self.T = list(sizes), lif, T
        self.layers = nn.ModuleList(
            MaskedLinear(i, o, m) for i, o, m in zip(sizes[:-1], sizes[1:], masks)
        )
        self.neurons = nn.ModuleList(
            LIF(lif, learn_beta, learn_threshold, shape=(o,) if per_neuron else ()) for o in sizes[1:]
        )
        # Per layer: the dtype of its spike x weight product (see `set_precision`).
        self.product_dtypes: list[torch.dtype | None] = [None] * len(self.layers)
        # Save compact state for backward (bf16 surrogate factors, bool spikes); first order only.
        self.compact = False
        # Event-driven products for spike inputs firing below this rate (None: always dense).
        self.event_max_rate: float | None = None
        #: Per layer, whether the last forward pass took the event-driven product.
        self.last_event_layers: list[bool] = [False] * len(self.layers)

    #: bf16 only pays for products at least this wide on both sides; below, fp32 is as fast.
    BF16_MIN_WIDTH = 256

    def set_precision(self, precision: str) -> None:
        """Choose the product precision.

        ``"bf16"``: hidden-to-hidden products (spike input, both widths >= 256) run in bfloat16:
        spikes are exact in it and the kernel accumulates in fp32, but the result is rounded to
        8 significant bits. The first layer (analog pixels) and the readout layer (where the
        loss gradient enters) stay fp32. bf16 also saves compact state for backward (the surrogate
        derivative in bf16, spikes as bool): about half the training memory, first order only.
        bf16 also lets layers whose input spikes fire below ``DEFAULT_MAX_RATE`` take the
        event-driven product (sums of the weights of the inputs that fired, in fp32; on CPU with
        the native kernels), chosen per layer at every forward pass from the measured rate.
        ``"fp32"``: every product in fp32 and dense, exact state saved, twice differentiable.
        """
        self.product_dtypes = [
            torch.bfloat16
            if precision == "bf16" and i > 0 and min(layer.in_features, layer.out_features) >= self.BF16_MIN_WIDTH
            else None
            for i, layer in enumerate(self.layers)
        ]
        self.compact = any(d is not None for d in self.product_dtypes)
        self.event_max_rate = DEFAULT_MAX_RATE if precision == "bf16" else None

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        """Run the network on an encoded input.

        Args:
            x_seq: ``[T, B, ...]`` input currents or spikes. A stride-0 expansion over T
                (what ``encode(..., "current")`` returns) is recognised, and the first layer
                is then computed once instead of T times.
            record: also return every layer's spike sequence (rasters, analysis, tests).

        Returns:
            :class:`SNNOutput`.
        """
        T = x_seq.shape[0]
        constant = is_time_constant(x_seq)
        h = x_seq[0].flatten(1) if constant else x_seq.flatten(2)
        hidden, rates = [], []
        mem = h
        dtypes = self.product_dtypes + [None]
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            # (CPU only: the rate is read on the host, which would be a sync per layer on a GPU)
            events = (
                i > 0 and self.event_max_rate is not None and h.device.type == "cpu"
                and rates[-1].item() < self.event_max_rate
            )
            self.last_event_layers[i] = events
            cur = layer(h, dtypes[i], binary=self.compact and i > 0, events=events)
            # Emit spikes directly in the dtype the next product reads (0/1 are exact in bf16).
            # Hidden layers may run compact; the readout keeps its membrane (membrane loss, plots).
            compact = self.compact and i < last
            h, mem = self.neurons[i](
                cur, T=T if (constant and i == 0) else None,
                spike_dtype=torch.bfloat16 if compact else dtypes[i + 1], compact=compact,
            )
            rates.append(spike_rate(h))
            if record:
                hidden.append(h)
        return SNNOutput(spikes=h.float(), mem=mem, rates=tuple(rates), hidden=tuple(hidden) if record else None)

    def connections(self) -> tuple[int, int]:
        """(weights that exist, weights a dense network of the same shape would have)."""
        kept = sum(layer.connections() for layer in self.layers)
        total = sum(layer.weight.numel() for layer in self.layers)
        return kept, total


def _g2g_masks(sizes: Sequence[int], grouping: str, groups: int, p_inter: float, seed: int):
    gen = torch.Generator().manual_seed(seed)
    pops = [assign_groups(n, groups, grouping, depth, gen) for depth, n in enumerate(sizes)]
    return [g2g_mask(pre, post, p_inter, gen) for pre, post in zip(pops[:-1], pops[1:])]


def _mlp(
    in_shape: Sequence[int], num_classes: int, hidden: Sequence[int], lif: LIFParams, T: int,
    grouping: str | None = None, groups: int = 8, p_inter: float = 0.15, mask_seed: int = 0,
    learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
) -> SpikingMLP:
    sizes = [math.prod(in_shape), *hidden, num_classes]
    masks = _g2g_masks(sizes, grouping, groups, p_inter, mask_seed) if grouping else None
    return SpikingMLP(sizes, masks, lif, T, learn_beta, learn_threshold, per_neuron)


def _lif(beta: float, threshold: float, surrogate: str) -> LIFParams:
    return LIFParams(beta=beta, threshold=threshold, surrogate=surrogate)


@register_model(family="mlp")
def dense(
    *, in_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden_dim: int = 2048, T: int = 50,
    beta: float = 0.9, threshold: float = 1.0, surrogate: str = "fast_sigmoid",
    learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
) -> SpikingMLP:
    """G2G seed's dense baseline: in -> FC(hidden) -> FC(hidden) -> FC(classes), LIF everywhere."""
    return _mlp(
        in_shape, num_classes, [hidden_dim, hidden_dim], _lif(beta, threshold, surrogate), T,
        learn_beta=learn_beta, learn_threshold=learn_threshold, per_neuron=per_neuron,
    )


def _g2g_variant(grouping: str):
    def variant(
        *, in_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden_dim: int = 2048, T: int = 50,
        beta: float = 0.9, threshold: float = 1.0, surrogate: str = "fast_sigmoid",
        groups: int = 8, p_inter: float = 0.15, mask_seed: int = 0,
        learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
    ) -> SpikingMLP:
        return _mlp(
            in_shape, num_classes, [hidden_dim, hidden_dim], _lif(beta, threshold, surrogate), T,
            grouping=grouping, groups=groups, p_inter=p_inter, mask_seed=mask_seed,
            learn_beta=learn_beta, learn_threshold=learn_threshold, per_neuron=per_neuron,
        )

    variant.__name__ = variant.__qualname__ = grouping
    variant.__doc__ = (
        f"G2GNet, `{grouping}` grouping: the dense shape with group-to-group masks "
        "(fully connected inside a group, p_inter across groups)."
    )
    return variant


for _grouping in ("index", "random", "mixer"):
    register_model(_g2g_variant(_grouping), family="g2g")


@register_model(family="mlp")
def mlp(
    *, in_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden_dim: int = 512, T: int = 25,
    beta: float = 0.9, threshold: float = 1.0, surrogate: str = "fast_sigmoid",
    learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
) -> SpikingMLP:
    """The plasticity seed's network: in -> 512 LIF -> classes LIF (beta 0.9, T 25)."""
    return _mlp(
        in_shape, num_classes, [hidden_dim], _lif(beta, threshold, surrogate), T,
        learn_beta=learn_beta, learn_threshold=learn_threshold, per_neuron=per_neuron,
    )
