"""Spiking MLPs: the G2G seed's dense baseline and G2GNet variants, and the plasticity seed's 784-512-10.

Every layer is ``MaskedLinear`` followed by a LIF population run over the whole sequence
at once (:func:`snncli.neurons.lif_sequence`): one matmul per layer over all T*B rows and
a fused LIF recurrence, instead of a Python loop around every layer.

The G2G family (``dense``, ``index``, ``random``, ``mixer``) has the layout of the seed's code and
logs: ``hidden_layers`` (3) hidden LIF layers ``fc1..fc3`` of width ``hidden_dim``, masked in the
sparse models, and a dense LIF readout; ``hidden_layers=2, readout="masked"`` is the seed README's
drawing (``Sparse(2048) -> Sparse(2048) -> Sparse(classes)``).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
import torch.nn as nn

from ..neurons import LIF, LIFParams, spike_rate
from ..neurons.events import DEFAULT_MAX_RATE, FP32_MAX_RATE
from ..sparsity import Grouping, g2g_groupings, g2g_mask, intra_group_coverage
from ._registry import register_model
from .layers import MaskedLinear


#: What :meth:`SpikingMLP.set_precision` accepts (``--precision`` adds ``auto``).
PRECISIONS = ("fp32", "fp32-events", "bf16")


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
    """Class scores ``[B, C]`` from a spiking output: spike counts (``"count"``, ``"rate"``) or time-summed membrane."""
    return out.spikes.sum(0) if loss_kind in ("count", "rate") else out.mem.sum(0)


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
        init: weight initialisation of masked layers (see :class:`MaskedLinear`).
        groupings: per masked layer (first ones first) the groups its mask was drawn from.
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
        init: str = "seed",
        groupings: Sequence[Grouping] = (),
        learn_beta: bool = False,
        learn_threshold: bool = False,
        per_neuron: bool = False,
    ):
        super().__init__()
        masks = list(masks) if masks is not None else [None] * (len(sizes) - 1)
        groups = [tuple(g) for g in groupings] + [None] * (len(masks) - len(groupings))
        self.sizes, self.lif, self.T = list(sizes), lif, T
        self.layers = nn.ModuleList(
            MaskedLinear(i, o, m, init=init, groups=g) for i, o, m, g in zip(sizes[:-1], sizes[1:], masks, groups)
        )
        self.neurons = nn.ModuleList(
            LIF(lif, learn_beta, learn_threshold, shape=(o,) if per_neuron else ()) for o in sizes[1:]
        )
        # Per layer: the dtype of its spike x weight product (see `set_precision`).
        self.product_dtypes: list[torch.dtype | None] = [None] * len(self.layers)
        # Save compact state for backward (bf16 surrogate factors, bool spikes); first order only.
        self.compact = False
        # Spike inputs taken as 0/1 by the products (bool saved for backward, thin readouts); first order only.
        self.binary = False
        # Event-driven products for spike inputs firing below this rate (None: always dense).
        self.event_max_rate: float | None = None

    @property
    def last_event_layers(self) -> list[bool]:
        """Per layer, whether the last forward pass took the event-driven product (each layer's
        ``last_product`` says which path it took)."""
        return [layer.last_product == "events" for layer in self.layers]

    #: bf16 only pays for products at least this wide on both sides; below, fp32 is as fast.
    BF16_MIN_WIDTH = 256

    def set_precision(self, precision: str) -> None:
        """Choose the product precision.

        ``"bf16"``: hidden-to-hidden products (spike input, both widths >= 256) run in bfloat16:
        spikes are exact in it and the kernel accumulates in fp32, but the result is rounded to
        8 significant bits. The first layer (analog pixels) and the readout layer (where the
        loss gradient enters) stay fp32. bf16 also saves compact state for backward (the surrogate
        derivative in bf16, spikes as bool or bf16), in every layer but the readout, whether or not
        any product runs in bf16: about half the training memory, first order only.
        bf16 also lets layers whose input spikes fire below ``DEFAULT_MAX_RATE`` take the
        event-driven product (sums of the weights of the inputs that fired, in fp32; on CPU with
        the native kernels), chosen per layer at every forward pass from the measured rate.
        ``"fp32-events"``: every product in fp32 and the exact state saved, but layers whose input
        spikes fire below ``FP32_MAX_RATE`` take the event-driven product (fp32 sums, another order
        than BLAS's: equal to rounding), spike inputs are saved as bool; first order only. What
        ``auto`` picks on a CPU without fast bf16, where the dense fp32 products cost the most.
        ``"fp32"``: every product in fp32 and dense, exact state saved, twice differentiable.
        """
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        self.product_dtypes = [
            torch.bfloat16
            if precision == "bf16" and i > 0 and min(layer.in_features, layer.out_features) >= self.BF16_MIN_WIDTH
            else None
            for i, layer in enumerate(self.layers)
        ]
        # Compact state in every bf16 network, also one whose products all stay fp32 (784-512-10): the
        # hidden layers then emit bf16 spikes, save the bf16 surrogate factor instead of the fp32
        # membrane, and a narrow readout reads those spikes directly (measured: 784-512-10 T25 B128
        # trains 24% faster per step than with exact state, benchmarks/README.md).
        self.compact = precision == "bf16"
        # Spike inputs are known to be 0/1 (saved as bool, narrow readouts on the thin kernels): first order only.
        self.binary = precision != "fp32"
        self.event_max_rate = {"bf16": DEFAULT_MAX_RATE, "fp32-events": FP32_MAX_RATE}.get(precision)

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
            cur = layer(h, dtypes[i], binary=self.binary and i > 0, events=events)
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

    def groupings(self) -> list[Grouping]:
        """The groups of the masked layers that were drawn from G2G groups, first layer first."""
        return [Grouping(l.pre_groups, l.post_groups) for l in self.layers if l.pre_groups is not None]

    def mixing(self) -> float | None:
        """Intra-group path coverage from the input to the second hidden layer (``None`` without G2G groups).

        The share of (input unit, second-hidden unit) pairs joined by a path of intra-group
        connections: ``1/G`` when groups never mix (``index``), about 1 when they do
        (``mixer``, ``random``). See :func:`snncli.sparsity.intra_group_coverage`.
        """
        groupings = self.groupings()
        return intra_group_coverage(groupings, 2) if len(groupings) >= 2 else None


G2G_GROUPINGS = ("index", "random", "mixer")
G2G_FAMILY = ("dense", *G2G_GROUPINGS)
READOUTS = ("dense", "masked")

#: What the G2G seed's training script did beside the model (evaluation/train.py at 780c0ef):
#: Adam, lr 1e-3, weight decay 1e-4, and no validation hold-out (all 60 000 images train).
G2G_TRAINING = {"weight_decay": 1e-4, "val_fraction": 0.0}



_MASK64 = (1 << 64) - 1


def mask_stream_seed(seed: int) -> int:
    """The seed of the generator G2G masks are drawn from: ``seed`` mixed (SplitMix64's finaliser).

    Never ``seed`` itself: ``snn train`` seeds torch's global generator with ``--seed`` and then
    draws the weights from it, and a mask generator seeded with the same number replays the same
    uniforms. Each inter-group connection (``u < p_inter``) then got the weight drawn from that
    same small ``u``, i.e. one near ``-bound``: the first masked layer's active weights averaged
    -0.74 of their std, and index/random/mixer began silent (layer-1 rate 0.0001 instead of 0.08).
    """
    z = (seed + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 1


def _mlp(
    in_shape: Sequence[int], num_classes: int, hidden: Sequence[int], lif: LIFParams, T: int,
    grouping: str | None = None, groups: int = 8, p_inter: float = 0.15, p_intra: float = 1.0,
    mask_seed: int = 0, init: str = "seed", readout: str = "dense",
    learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
) -> SpikingMLP:
    if readout not in READOUTS:
        raise ValueError(f"unknown readout {readout!r}; choose from {', '.join(READOUTS)}")
    sizes = [math.prod(in_shape), *hidden, num_classes]
    masks: list[torch.Tensor | None] = [None] * (len(sizes) - 1)
    groupings: list[Grouping] = []
    if grouping:
        n_masked = len(hidden) + (readout == "masked")
        gen = torch.Generator().manual_seed(mask_stream_seed(mask_seed))
        groupings = g2g_groupings(sizes[: n_masked + 1], grouping, groups, gen)
        masks[:n_masked] = [g2g_mask(g.pre, g.post, p_inter, gen, p_intra) for g in groupings]
    return SpikingMLP(sizes, masks, lif, T, init=init, groupings=groupings, learn_beta=learn_beta,
                      learn_threshold=learn_threshold, per_neuron=per_neuron)


def _lif(beta: float, threshold: float, surrogate: str, slope: float | None = None) -> LIFParams:
    return LIFParams(beta=beta, threshold=threshold, surrogate=surrogate, slope=slope)


#: The G2G seed's neurons at the commit that produced its logs (780c0ef, results_p_sweep/):
#: snnTorch ``Leaky(beta=0.95, spike_grad=fast_sigmoid(slope=25))``, threshold 1, in every model
#: (slope ``None`` takes the surrogate's snnTorch default: 25 for the fast sigmoid).
G2G_BETA, G2G_SURROGATE = 0.95, "fast_sigmoid"


def equal_parameter_width(
    n_in: int, hidden_dim: int, hidden_layers: int, num_classes: int, p_inter: float, groups: int, p_intra: float = 1.0
) -> int:
    """Width of a dense network with as many parameters as a G2G network of width ``hidden_dim``.

    Counts what the seed counts: existing connections (expected density
    ``p_intra/G + (1 - 1/G) p_inter`` in the masked hidden layers, the readout dense) plus biases.
    The seed's dense baseline at 780c0ef is this width for its sparse models (447 for 1024, p_inter 0.15).
    """
    d = p_intra / groups + (1.0 - 1.0 / groups) * p_inter
    target = (n_in * hidden_dim + (hidden_layers - 1) * hidden_dim**2) * d + hidden_dim * num_classes
    target += hidden_layers * hidden_dim + num_classes
    # (L-1) h^2 + (in + classes + L) h + classes = target
    a, b, c = hidden_layers - 1, n_in + num_classes + hidden_layers, num_classes - target
    h = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return max(1, round(h))


@register_model(family="mlp", defaults=G2G_TRAINING)
def dense(
    *, in_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden_dim: int = 2048, hidden_layers: int = 3,
    T: int = 50, beta: float = G2G_BETA, threshold: float = 1.0, surrogate: str = G2G_SURROGATE,
    slope: float | None = None, learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
    match_params: bool = False, p_inter: float = 0.15, groups: int = 8, p_intra: float = 1.0,
) -> SpikingMLP:
    """G2G seed's dense baseline: in -> FC(hidden) x3 -> FC(classes), LIF everywhere.

    ``match_params``: the seed's equal-parameter baseline — the width that gives as many parameters
    as a G2G network of width ``hidden_dim`` at ``p_inter``/``groups``/``p_intra`` (447 for 1024 at 0.15).
    """
    if match_params:
        hidden_dim = equal_parameter_width(
            math.prod(in_shape), hidden_dim, hidden_layers, num_classes, p_inter, groups, p_intra
        )
    return _mlp(
        in_shape, num_classes, [hidden_dim] * hidden_layers, _lif(beta, threshold, surrogate, slope), T,
        learn_beta=learn_beta, learn_threshold=learn_threshold, per_neuron=per_neuron,
    )


def _g2g_variant(grouping: str):
    def variant(
        *, in_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden_dim: int = 2048, hidden_layers: int = 3,
        T: int = 50, beta: float = G2G_BETA, threshold: float = 1.0, surrogate: str = G2G_SURROGATE,
        slope: float | None = None, groups: int = 8, p_inter: float = 0.15, p_intra: float = 1.0,
        mask_seed: int = 0, init: str = "seed", readout: str = "dense",
        learn_beta: bool = False, learn_threshold: bool = False, per_neuron: bool = False,
    ) -> SpikingMLP:
        return _mlp(
            in_shape, num_classes, [hidden_dim] * hidden_layers, _lif(beta, threshold, surrogate, slope), T,
            grouping=grouping, groups=groups, p_inter=p_inter, p_intra=p_intra, mask_seed=mask_seed,
            init=init, readout=readout, learn_beta=learn_beta, learn_threshold=learn_threshold, per_neuron=per_neuron,
        )

    variant.__name__ = variant.__qualname__ = grouping
    variant.__doc__ = (
        f"G2GNet, `{grouping}` grouping: the dense layout with group-to-group masks on the hidden layers "
        "(p_intra inside a group, p_inter across groups), dense readout."
    )
    return variant


for _grouping in G2G_GROUPINGS:
    register_model(_g2g_variant(_grouping), family="g2g", defaults=G2G_TRAINING)


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
