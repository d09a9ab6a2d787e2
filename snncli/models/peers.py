"""A :class:`SpikingMLP` written idiomatically in other SNN libraries, for ``snn bench --against``.

Each twin copies the model's weights (masks applied) and runs the same layer sizes over the same
``[T, B, ...]`` input; the neurons are each library's nearest counterpart of snnTorch's ``Leaky``
(see :data:`PEERS` for what differs). Speed comparisons only: these are never a training path.
The libraries are optional extras (``pip install spikingjelly norse torch==<your torch>``) and are
imported only when a twin is built.
"""

from __future__ import annotations

import importlib.util
from typing import Callable, NamedTuple

import torch
import torch.nn as nn

from .mlp import SNNOutput, SpikingMLP


class Peer(NamedTuple):
    """A library ``snn bench`` can compare against."""

    module: str  #: import name
    package: str  #: pip name
    semantics: str  #: how its neuron differs from snnTorch's Leaky
    build: Callable[[SpikingMLP], nn.Module]


def _masked_linears(model: SpikingMLP, make: Callable[[int, int], nn.Linear]) -> list[nn.Linear]:
    out = []
    for src in model.layers:
        lin = make(src.in_features, src.out_features)
        with torch.no_grad():
            lin.weight.copy_(src.effective_weight())
            lin.bias.copy_(src.bias)
        if src.mask is not None:  # keep masked weights at zero during training, as the model does
            lin.weight.register_hook(lambda g, m=src.mask.clone(): g * m)
        out.append(lin)
    return out


def _beta_threshold(model: SpikingMLP) -> tuple[float, float]:
    return float(model.lif.beta), float(model.lif.threshold)


class SpikingJellyMLP(nn.Module):
    """SpikingJelly 2 in multi-step mode: ``layer.Linear`` over ``[T, B, N]`` at once and ``LIFNode``
    (``step_mode="m"``, its fused CPU/CUDA LIF op), state reset per batch with ``reset_net``."""

    def __init__(self, model: SpikingMLP):
        from spikingjelly.activation_based import layer, neuron, surrogate

        super().__init__()
        beta, threshold = _beta_threshold(model)
        slope = model.lif.slope if model.lif.slope is not None else 25.0
        blocks = []
        for lin in _masked_linears(model, lambda i, o: layer.Linear(i, o, step_mode="m")):
            # decay_input=False, v_reset=None: H = (1 - 1/tau) V + X, soft reset; tau = 1 / (1 - beta)
            lif = neuron.LIFNode(
                tau=1.0 / (1.0 - beta), decay_input=False, v_threshold=threshold, v_reset=None,
                surrogate_function=surrogate.SuperSpike(alpha=slope), detach_reset=True, step_mode="m",
            )
            blocks += [lin, lif]
        self.net = nn.Sequential(*blocks)

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        from spikingjelly.activation_based import functional

        functional.reset_net(self.net)
        spikes = self.net(x_seq.flatten(2))
        return SNNOutput(spikes=spikes, mem=spikes, rates=())


class NorseMLP(nn.Module):
    """Norse: ``nn.Linear`` over ``[T, B, N]`` at once, then ``Lift(LIFBoxCell)`` (a leaky neuron
    without synaptic current, stepped over time by Norse), SuperSpike surrogate."""

    def __init__(self, model: SpikingMLP):
        import norse.torch as norse
        from norse.torch.functional.reset import reset_subtract

        super().__init__()
        beta, threshold = _beta_threshold(model)
        slope = model.lif.slope if model.lif.slope is not None else 25.0
        dt = 1e-3
        # Euler step v += dt * tau_inv * (-v + I): decay 1 - dt * tau_inv = beta, input scaled by 1 - beta
        p = norse.LIFBoxParameters(
            tau_mem_inv=torch.tensor((1.0 - beta) / dt), v_th=torch.tensor(threshold), v_reset=torch.tensor(0.0),
            method="super", alpha=torch.tensor(slope), reset_method=reset_subtract,
        )
        self.linears = nn.ModuleList(_masked_linears(model, nn.Linear))
        self.neurons = nn.ModuleList(norse.Lift(norse.LIFBoxCell(p, dt=dt)) for _ in self.linears)

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        h = x_seq.flatten(2)
        for lin, lif in zip(self.linears, self.neurons):
            h, _ = lif(lin(h))  # a fresh state per call
        return SNNOutput(spikes=h, mem=h, rates=())


PEERS: dict[str, Peer] = {
    "spikingjelly": Peer(
        "spikingjelly", "spikingjelly",
        "LIFNode multi-step, soft reset applied in the same step (the reset decays with the membrane)",
        SpikingJellyMLP,
    ),
    "norse": Peer(
        "norse", "norse",
        "LIFBoxCell (Euler step: input scaled by 1 - beta), reset by subtraction in the same step",
        NorseMLP,
    ),
}


def peer_installed(name: str) -> bool:
    """Whether the library behind ``name`` can be imported."""
    return importlib.util.find_spec(PEERS[name].module) is not None
