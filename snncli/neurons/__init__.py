"""Spiking neurons: pure functions over ``[T, B, ...]`` sequences and thin modules around them."""

from . import events
from .lif import LIFParams, LIFState, clamped_beta, lif_loop, lif_sequence, lif_step, spike_rate
from .module import LIF
from .stateless import stateless_spike
from .surrogate import SURROGATES, spike, surrogate_grad

__all__ = [
    "LIF",
    "LIFParams",
    "LIFState",
    "SURROGATES",
    "clamped_beta",
    "events",
    "lif_loop",
    "lif_sequence",
    "lif_step",
    "spike",
    "spike_rate",
    "stateless_spike",
    "surrogate_grad",
]
