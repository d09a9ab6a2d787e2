r"""G2GNet connectivity: group-to-group masks for sparse spiking MLPs.

Each masked layer splits its input side and its output side into ``G`` groups *of its own*
(two layers that share a population need not group it the same way). A connection from
input unit *j* to output unit *i* exists with probability ``p_intra`` (1 in the seed) when
both are in the same group, and with probability ``p_inter`` otherwise. For balanced groups
the expected density is ``p_intra/G + (1 - 1/G) * p_inter`` (0.256 for G = 8, p_inter = 0.15).

How a side is grouped (``n`` units, ``G`` groups):

* ``contiguous``: blocks, ``group(i) = floor(i * G / n)``.
* ``interleaved``: strided, ``group(i) = i mod G``.
* ``random``: a random balanced assignment (the blocks under a random permutation), drawn
  afresh for every side of every layer.

What each grouping rule does with the masked layers (the seed's ``models/*_snn.py``):

* ``index``: contiguous on both sides of every layer. With ``p_inter = 0`` the network is
  ``G`` disjoint columns: an input group only ever reaches its own block.
* ``random``: independent random groupings on both sides of every layer, so the units one
  group feeds are scattered over all the groups of the next layer.
* ``mixer``: contiguous on both sides of the first and third layers, interleaved on both sides
  of the second (and alternating beyond): a block of first-layer units holds every residue
  ``mod G``, so after two layers every input group reaches every unit, as MLP-Mixer
  alternates token and channel mixing.

How much the groups mix is measured by the *intra-group path coverage*
(:func:`intra_group_coverage`): the share of (input unit, unit ``k`` layers up) pairs joined by a
path of intra-group connections. Two layers up it is ``1/G`` for ``index`` and about 1 for
``mixer`` and ``random``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch

GROUPINGS = ("index", "random", "mixer")
SIDES = ("contiguous", "interleaved", "random")


class Grouping(NamedTuple):
    """The group of every unit on each side of one masked layer (int64 tensors ``[in]`` and ``[out]``)."""

    pre: torch.Tensor
    post: torch.Tensor


def group_ids(n: int, groups: int, side: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Group id of each of ``n`` units: ``contiguous``, ``interleaved`` or ``random`` (balanced).

    Returns:
        int64 tensor ``[n]`` with values in ``[0, G)``; group sizes differ by at most one.
    """
    if side == "contiguous":
        return torch.arange(n) * groups // n
    if side == "interleaved":
        return torch.arange(n) % groups
    if side == "random":
        return (torch.arange(n) * groups // n)[torch.randperm(n, generator=generator)]
    raise ValueError(f"unknown side grouping {side!r}; choose from {', '.join(SIDES)}")


def layer_sides(grouping: str, layer: int) -> tuple[str, str]:
    """How masked layer ``layer`` (0-based) groups its (input, output) side under ``grouping``."""
    if grouping == "index":
        return "contiguous", "contiguous"
    if grouping == "random":
        return "random", "random"
    if grouping == "mixer":
        side = "interleaved" if layer % 2 == 1 else "contiguous"
        return side, side
    raise ValueError(f"unknown grouping {grouping!r}; choose from {', '.join(GROUPINGS)}")


def g2g_groupings(
    sizes: Sequence[int], grouping: str, groups: int, generator: torch.Generator | None = None
) -> list[Grouping]:
    """Per masked layer, the input- and output-side groups, for populations ``sizes`` (input first)."""
    out = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        pre_side, post_side = layer_sides(grouping, layer)
        pre = group_ids(n_in, groups, pre_side, generator)
        out.append(Grouping(pre, group_ids(n_out, groups, post_side, generator)))
    return out


def g2g_mask(
    pre_groups: torch.Tensor,
    post_groups: torch.Tensor,
    p_inter: float,
    generator: torch.Generator | None = None,
    p_intra: float = 1.0,
) -> torch.Tensor:
    """Connectivity mask ``[post, pre]``: Bernoulli(p_intra) inside a group, Bernoulli(p_inter) across."""
    same = post_groups[:, None] == pre_groups[None, :]
    draw = torch.rand(same.shape, generator=generator)
    return torch.where(same, draw < p_intra, draw < p_inter).to(torch.float32)


def expected_density(groups: int, p_inter: float, p_intra: float = 1.0) -> float:
    """Expected share of connections kept by :func:`g2g_mask` with balanced groups."""
    return p_intra / groups + (1.0 - 1.0 / groups) * p_inter


def intra_group_coverage(groupings: Sequence[Grouping], depth: int = 2) -> float:
    """Share of (input unit, unit ``depth`` layers up) pairs joined by a path of intra-group connections.

    Computed on groups, not units: ``R[a, b]`` says whether input group ``a`` reaches units whose
    output-side group is ``b``; one more layer maps it through the units that carry both an
    output-side group (as seen by the layer below) and an input-side group (as seen by the layer
    above). Exact for ``p_intra = 1``, whatever ``p_inter``.

    Args:
        groupings: per masked layer, input first (at least ``depth`` of them).
        depth: how many layers up to look (2: input to second hidden layer).
    """
    if len(groupings) < depth:
        raise ValueError(f"need {depth} grouped layers, got {len(groupings)}")
    g = int(max(int(x.max()) for gr in groupings[:depth] for x in gr) + 1)
    reach = torch.eye(g, dtype=torch.bool)  # input group -> output-side group of layer 0
    for below, above in zip(groupings[: depth - 1], groupings[1:depth]):
        link = torch.zeros(g, g, dtype=torch.bool)  # output-side group below -> input-side group above
        link[below.post, above.pre] = True
        reach = (reach.float() @ link.float()) > 0
    n_in = torch.bincount(groupings[0].pre, minlength=g).float()
    n_out = torch.bincount(groupings[depth - 1].post, minlength=g).float()
    joined = n_in @ reach.float() @ n_out
    return float(joined / (n_in.sum() * n_out.sum()))


def path_coverage(masks: Sequence[torch.Tensor]) -> float:
    """Share of (input unit, last-layer unit) pairs joined by any path through ``masks`` (``[out, in]`` each)."""
    reach = masks[0].float() > 0
    for m in masks[1:]:
        reach = (m.float() @ reach.float()) > 0
    return float(reach.float().mean())
