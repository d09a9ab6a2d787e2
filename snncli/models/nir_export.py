r"""A spiking MLP as a NIR graph (Neuromorphic Intermediate Representation, Pedersen et al. 2024,
https://neuroir.org): the exchange format snnTorch, Norse, SpikingJelly, Lava and neuromorphic chips read.

The graph is ``input -> fc0 -> lif0 -> fc1 -> lif1 -> ... -> output``: one ``nir.Affine`` per layer
with the connectivity mask folded into the weights (``W * M``; pruned weights are exact zeros), and
one ``nir.LIF`` per layer with per-neuron arrays. The discrete step ``U_t = beta U_{t-1} + I_t`` is
NIR's continuous LIF ``tau dv/dt = (v_leak - v) + R I`` under forward Euler with step ``dt``:
``tau = dt / (1 - beta)``, ``R = tau / dt``, ``v_leak = 0``, with snnTorch's ``dt = 1e-4`` so that
``snntorch.import_from_nir`` maps ``tau`` back to the same ``beta``. ``beta = 1`` (no leak) is an
``nir.IF``.

Reset: snn's neurons reset by subtracting the threshold one step after a spike (snnTorch's
``Leaky`` default); NIR's LIF and IF reset to ``v_reset = 0`` in the step they spike, and NIR has
no subtractive reset. The graph therefore matches snn's network exactly until a neuron's first
spike, and approximately after it (see ``docs/export.md``); ``metadata["reset"]`` says so.

The input is the encoded current or spike train of one time step, flattened: ``[C*H*W]`` per
sample, as :meth:`snncli.models.SNNClassifier.encode` produces it (``[T, B, C, H, W]``).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch
import torch.nn as nn

from ..errors import SnnError
from .mlp import SpikingMLP
from .reference import SnnTorchMLP

#: The time step NIR's continuous-time parameters are expressed in (snnTorch's convention, seconds).
DT = 1e-4


class ExportError(SnnError, ValueError):
    """A model the requested format cannot express (one line: which layers, and what it lacks)."""


def _array(value: Any, n: int) -> np.ndarray:
    """A per-neuron float32 array of ``n`` values from a number or a (per-layer or per-neuron) tensor."""
    if isinstance(value, torch.Tensor):
        value = value.detach().float().cpu().numpy()
    return np.broadcast_to(np.asarray(value, dtype=np.float32), (n,)).copy()


def mlp_layers(model: nn.Module) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per layer ``(weight [out, in] with the mask folded in, bias [out], beta [out], threshold [out])``.

    Raises:
        ExportError: ``model`` is not a spiking MLP.
    """
    if isinstance(model, SpikingMLP):
        pairs = [(layer.weight, layer.mask, layer.bias, neuron.params) for layer, neuron in zip(model.layers, model.neurons)]
        params = [(w, m, b, p.beta, p.threshold) for w, m, b, p in pairs]
    elif isinstance(model, SnnTorchMLP):
        params = [(lin.weight, getattr(model, f"mask{i}"), lin.bias, lif.beta, lif.threshold)
                  for i, (lin, lif) in enumerate(zip(model.linears, model.neurons))]
    else:
        raise ExportError(f"{type(model).__name__}: only the spiking MLPs (mlp, dense and the G2G variants) export to NIR")
    for weight, mask, bias, beta, threshold in params:
        w = weight.detach().float()
        if mask is not None:
            w = w * mask.to(w.dtype)
        n = w.shape[0]
        beta_n = np.clip(_array(beta, n), 0.0, 1.0)  # clamped where it is used, as in the forward pass
        yield w.cpu().numpy(), bias.detach().float().cpu().numpy(), beta_n, _array(threshold, n)


def to_nir(model: nn.Module, metadata: dict[str, Any] | None = None):
    """``model`` as a ``nir.NIRGraph`` (see the module docstring for the mapping).

    Args:
        model: a :class:`~snncli.models.SpikingMLP` (or its snnTorch reference).
        metadata: extra entries for the graph's metadata (the run's name, settings...).

    Raises:
        ExportError: the model is not a spiking MLP.
        ImportError: the ``nir`` package is missing.
    """
    import nir  # optional (pip install 'snncli[nir]'); the caller turns its absence into one line

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    previous = "input"
    layers = list(mlp_layers(model))
    nodes["input"] = nir.Input(input_type={"input": np.array([layers[0][0].shape[1]])})
    for i, (w, b, beta, threshold) in enumerate(layers):
        n = w.shape[0]
        nodes[f"fc{i}"] = nir.Affine(weight=w, bias=b)
        if np.all(beta >= 1.0):
            nodes[f"lif{i}"] = nir.IF(r=np.ones(n, dtype=np.float32), v_threshold=threshold,
                                      v_reset=np.zeros(n, dtype=np.float32))
        else:
            tau = (DT / np.maximum(1.0 - beta, 1e-12)).astype(np.float32)  # beta = 1 in a leaky layer: tau huge
            nodes[f"lif{i}"] = nir.LIF(tau=tau, r=(tau / DT).astype(np.float32), v_leak=np.zeros(n, dtype=np.float32),
                                       v_threshold=threshold, v_reset=np.zeros(n, dtype=np.float32))
        edges += [(previous, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        previous = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([layers[-1][0].shape[0]])})
    edges.append((previous, "output"))
    info = {"producer": "snncli", "dt": DT, "reset": "snn: subtract threshold, one step delayed; NIR LIF: to v_reset=0 at the spike",
            "input": "one time step of the encoded input, flattened to [C*H*W]", **(metadata or {})}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=info)
