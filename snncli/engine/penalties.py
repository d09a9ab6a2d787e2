r"""Firing-rate penalties added to the training loss.

The G2G seed's (``--rate-penalty seed``, after ``--warmup-epochs``): for every hidden layer *l*
and neuron *i*, the mean spikes per step over the batch and the T steps, :math:`r_{li}`, pulled to
a target rate with a squared error,

.. math::

    L = \lambda(e) \sum_l \sum_i (r_{li} - r^*(e))^2,

where, for the 1-based epoch :math:`e > W` (warm-up :math:`W`, :math:`E` epochs) and progress
:math:`p = (e - W) / (E - W)`, the weight rises :math:`\lambda = 10^{-4} + p\,(10^{-2} - 10^{-4})`
and the target falls :math:`r^* = 0.25 - p\,(0.25 - 0.09)`; nothing during the warm-up.

The simple one (``--rate-penalty mean``): ``rate_reg`` times the sum of the hidden layers' mean rates.
"""

from __future__ import annotations

from typing import Sequence

import torch

LAMBDA_START, LAMBDA_END = 1e-4, 1e-2
TARGET_START, TARGET_END = 0.25, 0.09


def seed_rate_schedule(epoch: int, epochs: int, warmup: int) -> tuple[float, float]:
    """``(weight, target rate)`` of the seed's penalty in 1-based ``epoch``; weight 0 during the warm-up."""
    if epoch <= warmup:
        return 0.0, TARGET_START
    progress = (epoch - warmup) / (epochs - warmup)
    return (LAMBDA_START + progress * (LAMBDA_END - LAMBDA_START),
            TARGET_START - progress * (TARGET_START - TARGET_END))


def rate_target_penalty(hidden_seq: Sequence[torch.Tensor], target: float) -> torch.Tensor:
    """``sum_l sum_i (mean_{t,b} S_l[t, b, i] - target)^2`` over hidden spike sequences ``[T, B, N_l]``."""
    return sum(((h.float().mean((0, 1)) - target) ** 2).sum() for h in hidden_seq)
