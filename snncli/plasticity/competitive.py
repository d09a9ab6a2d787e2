"""Competitive unsupervised learning in the style of Diehl & Cook (2015): winner-take-all LIF,
adaptive thresholds, weight normalisation, and the neuron-to-class readout.

These are the pieces of the STDP-only baseline: a layer whose weights only ever change by the
``stdp`` rule, and a readout that uses labels only to name what each neuron learned.

Reference: P. U. Diehl and M. Cook, "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", *Frontiers in Computational Neuroscience* 9:99, 2015.
"""

from __future__ import annotations

import torch


def wta_spikes(in_seq: torch.Tensor, weight: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Spikes of a layer under hard lateral inhibition: one winner per sample and step.

    ``s_i[t] = 1`` for ``i = argmax_k (W s_in[t] - theta)_k``, 0 for every other neuron. This is
    the limit of Diehl & Cook's strong inhibition: the first excitatory neuron to fire silences
    and resets the others, so no membrane carries over to the next step. ``theta`` is the
    adaptive threshold that makes neurons that win often lose more easily.

    Args:
        in_seq: input spikes ``[T, B, in]``.
        weight: ``[N, in]``.
        theta: adaptive thresholds ``[N]``.

    Returns:
        ``[T, B, N]`` spikes, exactly one per sample and step.
    """
    drive = in_seq.float() @ weight.t()
    winner = (drive - theta).argmax(-1)
    return torch.nn.functional.one_hot(winner, weight.shape[0]).to(drive.dtype)


def update_thresholds(theta: torch.Tensor, post_seq: torch.Tensor, theta_plus: float, decay: float) -> torch.Tensor:
    """Homeostasis: ``theta_i <- decay * theta_i + theta_plus * n_i / (n / N)``.

    ``n_i`` is neuron i's spikes in the batch, ``n / N`` the fair share of all ``n`` spikes over the
    ``N`` neurons: a neuron firing its fair share gains ``theta_plus`` per batch, a silent one none,
    so the equilibrium ``theta_plus / (1 - decay)`` per fair share does not depend on the layer size.
    """
    spikes = post_seq.sum((0, 1))
    fair = spikes.sum().clamp(min=1) / spikes.numel()
    return decay * theta + theta_plus * spikes / fair


def normalize_rows(weight: torch.Tensor, total: float) -> torch.Tensor:
    """Scale each neuron's incoming weights (clamped to be non-negative) to sum to ``total``."""
    w = weight.clamp(min=0)
    return w * (total / w.sum(1, keepdim=True).clamp(min=1e-12))


def assign_classes(counts: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Label each neuron with the class it responds to most (mean spike count per class).

    Args:
        counts: spike counts ``[samples, N]``.
        labels: classes ``[samples]``.
        num_classes: C.

    Returns:
        ``[N]`` class per neuron; ``-1`` for a neuron that never fired.
    """
    counts = counts.float()
    onehot = torch.nn.functional.one_hot(labels.long(), num_classes).float()
    per_class = onehot.t() @ counts / onehot.sum(0).clamp(min=1)[:, None]  # [C, N]
    assigned = per_class.argmax(0)
    return torch.where(counts.sum(0) > 0, assigned, torch.full_like(assigned, -1))


def predict_by_assignment(counts: torch.Tensor, assignments: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Class whose assigned neurons fire most on average, per sample (``[samples, N] -> [samples]``)."""
    scores = torch.full((counts.shape[0], num_classes), float("-inf"), device=counts.device)
    for c in range(num_classes):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].float().mean(1)
    return scores.argmax(1)
