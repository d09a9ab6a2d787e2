"""A LIF population as a small ``nn.Module``: holds the parameters, calls :func:`lif_sequence`."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from .lif import LIFParams, lif_sequence


class LIF(nn.Module):
    """LIF neurons over ``[T, B, ...]`` with fixed or learnable ``beta`` and ``threshold``.

    A learned value is an ``nn.Parameter`` initialised from ``params`` (one per layer, as
    snnTorch's ``Leaky(learn_beta=True, learn_threshold=True)``, or one per neuron with
    ``shape``); a fixed one stays a plain number and adds nothing to the state dict, so
    checkpoints of models without learned neurons keep their keys.

    Args:
        params: neuron parameters (their ``beta``/``threshold`` are the initial values).
        learn_beta: make ``beta`` a parameter (clamped to [0, 1] where used, as snnTorch).
        learn_threshold: make ``threshold`` a parameter.
        shape: shape of a learned value: ``()`` for one per layer, ``(N,)`` for one per neuron
            of a ``[T, B, N]`` layer.
    """

    def __init__(
        self, params: LIFParams = LIFParams(), learn_beta: bool = False, learn_threshold: bool = False,
        shape: Sequence[int] = (),
    ):
        super().__init__()
        self.base = params
        for name, learn in (("beta", learn_beta), ("threshold", learn_threshold)):
            value = getattr(params, name)
            param = nn.Parameter(torch.full(tuple(shape), float(value))) if learn else None
            self.register_parameter(name, param)

    @property
    def params(self) -> LIFParams:
        """The parameters in effect: learned tensors where there are any, else the fixed numbers."""
        p = self.base
        beta = self.beta if self.beta is not None else p.beta
        threshold = self.threshold if self.threshold is not None else p.threshold
        return p._replace(beta=beta, threshold=threshold)

    def forward(
        self, cur_seq: torch.Tensor, T: int | None = None, spike_dtype: torch.dtype | None = None,
        compact: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:func:`lif_sequence` with this population's parameters (same arguments and result)."""
        return lif_sequence(cur_seq, self.params, T=T, spike_dtype=spike_dtype, compact=compact)

    def extra_repr(self) -> str:
        def show(name: str) -> str:
            p = getattr(self, name)
            if p is None:
                return f"{name}={getattr(self.base, name)}"
            return f"{name}=learned{tuple(p.shape) if p.dim() else ''}"

        return f"{show('beta')}, {show('threshold')}, surrogate={self.base.surrogate}"
