"""The STDP-only baseline's layer: a winner-take-all layer whose weights change only by STDP.

Diehl & Cook (2015) style: one winner per sample and step (:func:`wta_spikes`), potentiation-only
STDP (``stdp`` with ``a_minus = 0``: the pre-synaptic trace at each post spike), each neuron's
weights renormalised to a fixed sum (which is what depresses the inputs it does not see) and
adaptive thresholds. Labels are used only afterwards, by :func:`assign_classes`.

Reference: P. U. Diehl and M. Cook, "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", *Frontiers in Computational Neuroscience* 9:99, 2015.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .competitive import normalize_rows, update_thresholds, wta_spikes
from .rules import stdp

# Homeostasis: theta gains THETA_PLUS per batch per fair share of the layer's spikes and decays by
# THETA_DECAY per batch; the equilibrium (15 per fair share) is of the order of the drive difference
# between a learned prototype and an untrained neuron (~25), so unused neurons get their turn.
THETA_PLUS = 0.15
THETA_DECAY = 0.99
WEIGHT_SUM_PER_INPUT = 0.1  # Diehl & Cook: 78 for 784 inputs


class CompetitiveLayer(NamedTuple):
    """State of the layer.

    Attributes:
        weight: ``[N, in]``, non-negative, each row summing to ``weight_sum``.
        theta: adaptive thresholds ``[N]``.
        weight_sum: the fixed sum of each neuron's incoming weights.
    """

    weight: torch.Tensor
    theta: torch.Tensor
    weight_sum: float


def init_layer(n_hidden: int, n_in: int, generator: torch.Generator, device: torch.device) -> CompetitiveLayer:
    """Uniform random weights (rows normalised), zero thresholds."""
    total = WEIGHT_SUM_PER_INPUT * n_in
    weight = normalize_rows(torch.rand(n_hidden, n_in, generator=generator, device=device), total)
    return CompetitiveLayer(weight, torch.zeros(n_hidden, device=device), total)


@torch.no_grad()
def stdp_step(layer: CompetitiveLayer, in_seq: torch.Tensor, eta: float, tau: float) -> CompetitiveLayer:
    """One batch of input spikes ``[T, B, in]``: winners, potentiation-only STDP, renormalisation, homeostasis."""
    post = wta_spikes(in_seq, layer.weight, layer.theta)
    weight = normalize_rows(layer.weight + stdp(in_seq, post, layer.weight, eta, tau=tau, a_minus=0.0), layer.weight_sum)
    theta = update_thresholds(layer.theta, post, theta_plus=THETA_PLUS, decay=THETA_DECAY)
    return CompetitiveLayer(weight, theta, layer.weight_sum)


@torch.no_grad()
def spike_counts(layer: CompetitiveLayer, in_seq: torch.Tensor) -> torch.Tensor:
    """Spike count per neuron over the window, ``[T, B, in] -> [B, N]``."""
    return wta_spikes(in_seq, layer.weight, layer.theta).sum(0)
