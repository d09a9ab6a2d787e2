r"""Dynamic sparse training: prune and grow rules as pure functions on tensors.

Every update removes active connections of a layer (a prune rule) and adds as many inactive
ones (a grow rule), so the number of connections stays constant. How many, and which are
eligible, follows one of two counts (:func:`rewire`'s ``count``):

* ``"seed"`` (the G2G seed): ``k = floor(fraction * active)``; magnitude pruning removes every
  active weight with ``|w|`` at or below the k-th smallest (ties all go, so it can be more than
  k); as many grow back, chosen among *all* inactive connections, the just-pruned included.
* ``"exact"``: ``k = round(fraction * active)`` exactly, and the just-pruned are not eligible.

Prune rules (which active connections go):

* ``set`` — the smallest ``|w|`` (magnitude pruning, SET: Mocanu et al., 2018, *Nat. Commun.* 9:2383).
* ``random`` — uniformly at random.
* ``hebb`` — the weakest pre/post spike correlation, :math:`|C_{ij}|` smallest.

Grow rules (which eligible inactive connections come in):

* ``hebb`` — the strongest correlation, :math:`|C_{ij}|` largest (cells that fire together wire
  together; a strongly anti-correlated pair is strongly coupled too, and the sign of the new
  weight is left to the gradient).
* ``random`` — uniformly at random (SET's growth).

Two correlations feed the Hebbian rules:

* :func:`cosine_similarity` (the seed): of the pre- and post-synaptic spike *trains* of one batch,
  every (step, sample) a coordinate: :math:`C_{ij} = \langle y_i, x_j\rangle / (\|y_i\| \|x_j\|)`,
  non-negative for spikes.
* :func:`correlation`: Pearson's, on spike *counts* over a window of samples:
  :math:`C = \hat{Y}^\top \hat{X} / n` with :math:`\hat{X}, \hat{Y}` the counts centred and scaled to
  unit variance per unit — one matmul over the buffer.
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


def cosine_similarity(pre_seq: torch.Tensor, post_seq: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity ``[post_units, pre_units]`` of spike trains ``pre_seq [T, B, in]``, ``post_seq [T, B, out]``.

    Each unit's train over all steps and samples (``T * B`` numbers) is one vector.
    """
    def unit_rows(x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, x.shape[-1]).float()
        return x / (x.norm(dim=0) + eps)

    return unit_rows(post_seq).t() @ unit_rows(pre_seq)


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
    count: str = "exact",
) -> Rewiring:
    """Prune a ``fraction`` of the active connections and grow as many.

    Args:
        weight: ``[out, in]`` weights (read by magnitude pruning).
        mask: ``[out, in]`` 0/1 connectivity.
        fraction: share of the active connections to replace, in (0, 1).
        prune: a name in :data:`PRUNE_RULES`.
        grow: a name in :data:`GROW_RULES`.
        corr: ``[out, in]`` pre/post correlation, needed by the ``hebb`` rules.
        generator: randomness for the ``random`` rules.
        count: ``"exact"`` (``round(fraction * active)``, just-pruned not regrown) or ``"seed"``
            (``floor``, magnitude ties all pruned, regrowth among all inactive); see the module doc.

    Returns:
        :class:`Rewiring`; the new mask has exactly as many connections as ``mask``.
    """
    if count not in ("exact", "seed"):
        raise ValueError(f"unknown count {count!r}; choose exact or seed")
    flat = mask.flatten().bool()
    active = int(flat.sum())
    k = int(round(fraction * active)) if count == "exact" else int(fraction * active)
    if count == "exact":
        k = min(k, int((~flat).sum()))  # cannot grow more than there is room for
    empty = torch.empty(0, dtype=torch.long, device=mask.device)
    if k == 0:
        return Rewiring(mask.clone(), empty, empty)
    if "hebb" in (prune, grow) and corr is None:
        raise ValueError("the hebb rules need a correlation matrix")
    if count == "seed" and prune == "set":
        magnitude = weight.detach().abs().flatten()
        cut = magnitude[flat].kthvalue(k).values
        pruned = (flat & (magnitude <= cut)).nonzero().squeeze(1)
    else:
        pruned = PRUNE_RULES[prune](weight, flat, k, corr, generator)
    new = flat.clone()
    new[pruned] = False
    eligible = ~new if count == "seed" else ~flat
    grown = GROW_RULES[grow](weight, eligible, min(pruned.numel(), int(eligible.sum())), corr, generator)
    new[grown] = True
    assert int(new.sum()) == active, "rewiring must keep the number of connections"
    return Rewiring(new.view_as(mask).to(mask.dtype), pruned, grown)
