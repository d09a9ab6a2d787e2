"""The plain snnTorch formulation of :class:`SpikingMLP`: ``snntorch.Leaky`` stepped in a Python loop.

This is how the seed codebases train. It is the yardstick for ``snn bench`` and the
oracle in the equivalence tests, never a training path of its own.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mlp import SNNOutput, SpikingMLP


def _snntorch_surrogate(name: str, slope: float | None):
    from snntorch import surrogate

    if name == "fast_sigmoid":
        return surrogate.fast_sigmoid(slope=25 if slope is None else slope)
    if name == "atan":
        return surrogate.atan(alpha=2.0 if slope is None else slope)
    if name == "sigmoid":
        return surrogate.sigmoid(slope=25 if slope is None else slope)
    raise ValueError(f"no snnTorch counterpart for surrogate {name!r}")


def _leaky(snn, neuron, grad):
    """A ``snntorch.Leaky`` with the same (possibly learned, per-neuron) beta and threshold as ``neuron``."""
    p = neuron.params

    def value(v):
        return v.detach().clone() if isinstance(v, torch.Tensor) else v

    return snn.Leaky(
        beta=value(p.beta), threshold=value(p.threshold), spike_grad=grad,
        learn_beta=neuron.beta is not None, learn_threshold=neuron.threshold is not None,
    )


class SnnTorchMLP(nn.Module):
    """``nn.Linear`` (masked where the model is) + ``snntorch.Leaky`` per layer, one step at a time."""

    def __init__(self, model: SpikingMLP):
        import snntorch as snn

        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(l.in_features, l.out_features) for l in model.layers)
        for lin, src in zip(self.linears, model.layers):
            lin.load_state_dict({"weight": src.weight.detach().clone(), "bias": src.bias.detach().clone()})
        for i, layer in enumerate(model.layers):
            self.register_buffer(f"mask{i}", None if layer.mask is None else layer.mask.clone())
        grad = _snntorch_surrogate(model.lif.surrogate, model.lif.slope)
        self.neurons = nn.ModuleList(_leaky(snn, neuron, grad) for neuron in model.neurons)

    def connections(self) -> tuple[int, int]:
        """(weights that exist, weights a dense network of the same shape would have)."""
        masks = [getattr(self, f"mask{i}") for i in range(len(self.linears))]
        kept = sum(lin.weight.numel() if m is None else int(m.sum()) for lin, m in zip(self.linears, masks))
        return kept, sum(lin.weight.numel() for lin in self.linears)

    def forward(self, x_seq: torch.Tensor, record: bool = False) -> SNNOutput:
        mems = [lif.reset_mem() for lif in self.neurons]
        spikes = [[] for _ in self.neurons]
        out_mem = []
        for t in range(x_seq.shape[0]):
            h = x_seq[t].flatten(1)
            for i, (lin, lif) in enumerate(zip(self.linears, self.neurons)):
                mask = getattr(self, f"mask{i}")
                w = lin.weight if mask is None else lin.weight * mask
                h, mems[i] = lif(F.linear(h, w, lin.bias), mems[i])
                spikes[i].append(h)
            out_mem.append(mems[-1])
        hidden = tuple(torch.stack(s) for s in spikes)
        rates = tuple(h.mean() for h in hidden)
        return SNNOutput(spikes=hidden[-1], mem=torch.stack(out_mem), rates=rates, hidden=hidden if record else None)
