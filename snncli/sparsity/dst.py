r"""Dynamic sparse training: prune and grow rules as pure functions on tensors.

Every update removes ``k`` active connections of a layer (a prune rule) and adds ``k``
inactive ones (a grow rule), so the number of connections stays exactly constant.

Prune rules (which active connections go):

* ``set`` — the smallest ``|w|`` (magnitude pruning, SET: Mocanu et al., 2018, *Nat. Commun.* 9:2383).
* ``random`` — uniformly at random.
* ``hebb`` — the weakest pre/post spike correlation, :math:`|C_{ij}|` smallest.

Grow rules (which inactive connections come in; just-pruned ones are not eligible):

* ``hebb`` — the strongest correlation, :math:`|C_{ij}|` largest (cells that fire together wire
  together; a strongly anti-correlated pair is strongly coupled too, and the sign of the new
  weight is left to the gradient, as it starts at zero).
* ``random`` — uniformly at random (SET's growth).

The correlation of post-synaptic unit *i* and pre-synaptic unit *j* over a window of samples is
Pearson's, on spike counts: :math:`C = \hat{Y}^\top \hat{X} / n` with :math:`\hat{X}, \hat{Y}` the
counts centred and scaled to unit variance per unit — one matmul over the buffer.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from ..registry import Registry

Rule = Callable[[torch.Tensor, torch.Tensor, int, "torch.Tensor | None", "torch.Generator | None"], torch.Tensor]


def correlation(pre: torch.Tensor, post: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Pearson correlation ``[post_units, pre_units]`` of spike counts ``pre [n, in]``, ``post [n, out]``."""
    def standardise(x: torch.Tensor) -> torch.Tensor:
        x = x.float() - x.float().mean(0)
        return x / (x.pow(2).mean(0).sqrt() + eps)

    return standardise(post).t() @ standardise(pre) / pre.shape[0]


def _pick(scores: torch.Tensor, candidates: torch.Tensor, k: int, largest: bool) -> torch.Tensor:
    """Flat indices of the ``k`` candidates with the smallest (or largest) score."""
    idx = candidates.nonzero().squeeze(1)
    if k > idx.numel():
        raise ValueError(f"cannot pick {k} of {idx.numel()} candidates")
    order = torch.topk(scores.flatten()[idx], k, largest=largest).indices
    return idx[order]


def _random(candidates: torch.Tensor, k: int, gen: torch.Generator | None) -> torch.Tensor:
    idx = candidates.nonzero().squeeze(1)
    if k > idx.numel():
        raise ValueError(f"cannot pick {k} of {idx.numel()} candidates")
    return idx[torch.randperm(idx.numel(), generator=gen, device=idx.device)[:k]]


def prune_set(weight, active, k, corr=None, gen=None):
    """Smallest-magnitude active weights."""
    return _pick(weight.abs(), active, k, largest=False)


def prune_random(weight, active, k, corr=None, gen=None):
    """Active connections at random."""
    return _random(active, k, gen)


def prune_hebb(weight, active, k, corr=None, gen=None):
    """Active connections whose pre/post correlation is weakest (smallest ``|C|``)."""
    return _pick(corr.abs(), active, k, largest=False)


def grow_hebb(weight, inactive, k, corr=None, gen=None):
    """Inactive connections whose pre/post correlation is strongest (largest ``|C|``)."""
    return _pick(corr.abs(), inactive, k, largest=True)


def grow_random(weight, inactive, k, corr=None, gen=None):
    """Inactive connections at random."""
    return _random(inactive, k, gen)


PRUNE_RULES: Registry[Rule] = Registry("DST prune rule", {"set": prune_set, "random": prune_random, "hebb": prune_hebb})
GROW_RULES: Registry[Rule] = Registry("DST grow rule", {"hebb": grow_hebb, "random": grow_random})


class Rewiring(NamedTuple):
    """The result of one update: the new mask and the flat indices that changed."""

    mask: torch.Tensor
    pruned: torch.Tensor
    grown: torch.Tensor


def rewire(
    weight: torch.Tensor,
    mask: torch.Tensor,
    fraction: float,
    prune: str,
    grow: str,
    corr: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Rewiring:
    """Prune ``round(fraction * active)`` connections and grow as many.

    Args:
        weight: ``[out, in]`` weights (read by magnitude pruning).
        mask: ``[out, in]`` 0/1 connectivity.
        fraction: share of the active connections to replace, in (0, 1).
        prune: a name in :data:`PRUNE_RULES`.
        grow: a name in :data:`GROW_RULES`.
        corr: ``[out, in]`` pre/post correlation, needed by the ``hebb`` rules.
        generator: randomness for the ``random`` rules.

    Returns:
        :class:`Rewiring`; the new mask has exactly as many connections as ``mask``.
    """
    flat = mask.flatten().bool()
    k = int(round(fraction * int(flat.sum())))
    k = min(k, int((~flat).sum()))  # cannot grow more than there is room for
    if k == 0:
        empty = torch.empty(0, dtype=torch.long, device=mask.device)
        return Rewiring(mask.clone(), empty, empty)
    if "hebb" in (prune, grow) and corr is None:
        raise ValueError("the hebb rules need a correlation matrix")
    pruned = PRUNE_RULES[prune](weight, flat, k, corr, generator)
    eligible = ~flat
    grown = GROW_RULES[grow](weight, eligible, k, corr, generator)
    new = flat.clone()
    new[pruned] = False
    new[grown] = True
    assert int(new.sum()) == int(flat.sum()), "rewiring must keep the number of connections"
    return Rewiring(new.view_as(mask).to(mask.dtype), pruned, grown)
