"""Spiking neurons: pure functions over ``[T, B, ...]`` sequences and thin modules around them."""

from .lif import LIFParams, LIFState, lif_loop, lif_sequence, lif_step
from .stateless import stateless_spike
from .surrogate import SURROGATES, spike, surrogate_grad

__all__ = [
    "LIFParams",
    "LIFState",
    "SURROGATES",
    "lif_loop",
    "lif_sequence",
    "lif_step",
    "spike",
    "stateless_spike",
    "surrogate_grad",
]
