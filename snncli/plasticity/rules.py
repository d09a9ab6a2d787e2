"""Local learning rules: the weight change a layer gets from its own pre- and post-synaptic spikes.

Every rule has the same signature, so the post-training loop and the tests treat them alike::

    rule(pre_seq, post_seq, weight, eta, **params) -> delta_w

with ``pre_seq`` ``[T, B, in]`` (spikes, or the input currents for the first layer), ``post_seq``
``[T, B, out]`` spikes, ``weight`` ``[out, in]`` and the returned change ``[out, in]`` (the caller
adds it, then clips). Rules use no labels and no gradients. Rate rules (``hebb``, ``anti-hebb``,
``hebb-anti-hebb``, ``oja``) read each sample's firing rates, its spike counts over the window divided
by its length, ``x_j = (1/T) sum_t pre[t, j]`` and ``y_i = (1/T) sum_t post[t, i]`` (in [0, 1] for
spikes; for the first layer ``x`` is the input current itself, e.g. normalised pixels, which may be
negative); ``stdp`` reads spike timing through exponential traces and is averaged over the T steps
likewise. Every change is averaged over the batch (``<.>`` below), so ``eta`` depends neither on the
batch size nor on T: one batch moves a weight by at most about ``eta`` times the largest ``|x|``
(``stdp``: ``eta`` times the trace length ``1 / (1 - exp(-1/tau))``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch

from ..registry import Registry


class Rule(Protocol):
    def __call__(
        self, pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float, **params: float
    ) -> torch.Tensor: ...


#: Every rule by name.
RULES: Registry[Rule] = Registry("plasticity rule")


def register_rule(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Register ``fn`` under its name, with ``_`` spelled ``-`` (``anti_hebb`` is ``"anti-hebb"``)."""
    return RULES.add(fn.__name__.replace("_", "-"), fn)


def list_rules() -> list[str]:
    """Names of all registered rules, sorted."""
    return RULES.names()


def get_rule(name: str) -> Rule:
    """The rule registered as ``name``.

    Raises:
        UnknownNameError: unknown name (a ``ValueError``; the message lists the registered ones).
    """
    return RULES[name]


def _rates(seq: torch.Tensor) -> torch.Tensor:
    """Per-sample firing rate over the window (spike count / T): ``[T, B, N] -> [B, N]`` in fp32."""
    return seq.float().mean(0)


def _correlation(pre_seq: torch.Tensor, post_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x, y = _rates(pre_seq), _rates(post_seq)
    return y.t() @ x / x.shape[0], x, y


@register_rule
def hebb(pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float) -> torch.Tensor:
    """Plain Hebbian rule on firing rates: cells that fire together wire together.

    ``dW_ij = eta * <y_i x_j>``. Rates are non-negative, so every change is a potentiation;
    nothing bounds the weights but the clipping the caller applies.

    Reference: D. O. Hebb, *The Organization of Behavior*, Wiley, 1949.
    """
    corr, _, _ = _correlation(pre_seq, post_seq)
    return eta * corr


@register_rule
def anti_hebb(pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float) -> torch.Tensor:
    """Anti-Hebbian rule on firing rates: correlated pairs are weakened.

    ``dW_ij = -eta * <y_i x_j>`` — the Hebbian change with the opposite sign, a decorrelating
    (novelty-filter) rule.

    Reference: P. Földiák, "Forming sparse representations by local anti-Hebbian learning",
    *Biological Cybernetics* 64:165-170, 1990.
    """
    corr, _, _ = _correlation(pre_seq, post_seq)
    return -eta * corr


@register_rule
def hebb_anti_hebb(
    pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float, lambda_ltd: float = 0.5,
) -> torch.Tensor:
    """The plasticity seed's combined rule: Hebbian potentiation, anti-Hebbian depression by the layer's mean rate.

    ``dW_ji = eta * < x_i (y_j - lambda_ltd * ybar) >``, with ``ybar = (1/N) sum_k y_k`` the sample's
    mean rate over the layer's ``N`` post-synaptic neurons. A neuron firing above ``lambda_ltd`` times
    its layer's mean strengthens its synapses from positive inputs; one firing below it weakens
    them; the depression ``eta * lambda_ltd * <x_i ybar>`` is the same for every post-synaptic neuron
    of input ``i`` (heterosynaptic). ``x`` may be negative (mean/std-normalised pixels on the first
    layer), which turns both terms around for that input. ``lambda_ltd = 0`` is :func:`hebb`.

    Args:
        lambda_ltd: strength of the anti-Hebbian term (the seed's ``lambda_ltd``, 0.5).

    Reference: the post-training rule of U. Bharadwaj and M. Saini, "Supervised Spiking Neural
    Networks with Unsupervised Post-Training Plasticity on MNIST" (course project, IIIT Hyderabad),
    in the covariance family of T. J. Sejnowski, "Storing covariance with nonlinearly interacting
    neurons", *J. Mathematical Biology* 4:303-321, 1977.
    """
    x, y = _rates(pre_seq), _rates(post_seq)
    post = y - lambda_ltd * y.mean(1, keepdim=True)
    return eta * (post.t() @ x) / x.shape[0]


@register_rule
def oja(pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float) -> torch.Tensor:
    """Oja's rule on firing rates: Hebbian growth with a decay that bounds each neuron's weight norm.

    ``dW_ij = eta * <y_i (x_j - y_i W_ij)> = eta * (<y_i x_j> - <y_i^2> W_ij)``. For a linear
    neuron ``y = w . x`` and small ``eta``, ``|w|`` converges to 1 (along the first principal
    component of ``x``).

    Reference: E. Oja, "Simplified neuron model as a principal component analyzer",
    *Journal of Mathematical Biology* 15:267-273, 1982.
    """
    corr, _, y = _correlation(pre_seq, post_seq)
    y2 = (y * y).mean(0)
    return eta * (corr - y2[:, None] * weight)


def traces(seq: torch.Tensor, decay: float) -> torch.Tensor:
    """Exponential spike traces ``z[t] = decay * z[t-1] + s[t]`` (``z[-1] = 0``) over ``[T, ...]``.

    Computed as one product with the causal kernel ``K[t, s] = decay^(t-s)`` (``s <= t``) instead of
    a loop over steps.
    """
    T = seq.shape[0]
    steps = torch.arange(T, device=seq.device, dtype=torch.float32)
    lag = steps[:, None] - steps[None, :]
    kernel = torch.where(lag >= 0, decay ** lag.clamp(min=0), torch.zeros_like(lag))
    return (kernel @ seq.float().reshape(T, -1)).reshape(seq.shape)


@register_rule
def stdp(
    pre_seq: torch.Tensor, post_seq: torch.Tensor, weight: torch.Tensor, eta: float,
    tau: float = 5.0, a_plus: float = 1.0, a_minus: float = 1.05,
) -> torch.Tensor:
    """Pair-based spike-timing-dependent plasticity with exponential traces over the T steps.

    With ``lambda = exp(-1/tau)`` (``tau`` in time steps), pre trace ``x[t] = lambda x[t-1] + pre[t]``
    and post trace ``y[t] = lambda y[t-1] + post[t]``::

        dW_ij = eta * < (1/T) sum_t  a_plus * post_i[t] * x_j[t]  -  a_minus * lambda * y_i[t-1] * pre_j[t] >

    A pre spike ``d >= 0`` steps before a post spike potentiates by ``a_plus * lambda^d``; a post
    spike ``d >= 1`` steps before a pre spike depresses by ``a_minus * lambda^d``. Spikes in the
    same step count as pre-before-post: in these feed-forward networks the input of step ``t``
    drives the spike of step ``t``. ``a_minus > a_plus`` (Song et al.) keeps uncorrelated
    activity from growing the weights.

    Reference: G.-q. Bi and M.-m. Poo, "Synaptic modifications in cultured hippocampal neurons",
    *J. Neuroscience* 18:10464-10472, 1998; trace form: S. Song, K. D. Miller and L. F. Abbott,
    "Competitive Hebbian learning through spike-timing-dependent synaptic plasticity",
    *Nature Neuroscience* 3:919-926, 2000.
    """
    decay = math.exp(-1.0 / tau)
    pre, post = pre_seq.float(), post_seq.float()
    T, batch, n_in, n_out = pre.shape[0], pre.shape[1], pre.shape[-1], post.shape[-1]
    change = a_plus * (post.reshape(-1, n_out).t() @ traces(pre, decay).reshape(-1, n_in))
    if a_minus:
        y_before = decay * torch.cat([torch.zeros_like(post[:1]), traces(post, decay)[:-1]])  # lambda y[t-1], y[-1] = 0
        change -= a_minus * (y_before.reshape(-1, n_out).t() @ pre.reshape(-1, n_in))
    return eta * change / (batch * T)


def pair_window(rule: Rule, lags: torch.Tensor | list[int], **params: float) -> torch.Tensor:
    """The weight change ``rule`` gives one synapse for one pre spike and one post spike ``lag`` steps later.

    The learning window of a spike-timing rule, measured on the rule itself rather than drawn from
    its formula: for every ``lag = t_post - t_pre`` (in steps, either sign) a single pair is placed
    in a window of ``2 max|lag| + 1`` steps and the rule's change at ``eta = 1`` is multiplied back by
    that length (rules average over the T steps). Rate rules give a flat window.

    Returns:
        ``[len(lags)]`` changes, in units of ``eta``.
    """
    lags = torch.as_tensor(lags, dtype=torch.long)
    span = int(lags.abs().max()) if lags.numel() else 0
    T = 2 * span + 1
    out = torch.empty(len(lags))
    for k, lag in enumerate(lags.tolist()):
        pre, post = torch.zeros(T, 1, 1), torch.zeros(T, 1, 1)
        pre[span, 0, 0] = 1.0
        post[span + lag, 0, 0] = 1.0
        out[k] = T * rule(pre, post, torch.zeros(1, 1), 1.0, **params)[0, 0]
    return out
