r"""G2GNet connectivity: group-to-group masks for sparse spiking MLPs.

Every population (the input, each hidden layer, the output) is split into ``groups``
groups. A connection from pre-synaptic unit *j* to post-synaptic unit *i* exists with
probability 1 when both units are in the same group (``p_intra = 1``) and with
probability ``p_inter`` otherwise. For balanced groups the expected density is
``1/G + (1 - 1/G) * p_inter`` (0.256 for G = 8, p_inter = 0.15).

Grouping rules, for a population of ``n`` units at depth ``k`` (input k = 0):

* ``index``: contiguous blocks, ``group(i) = floor(i * G / n)``.
* ``random``: a random balanced assignment (a random permutation of the blocks).
* ``mixer``: contiguous blocks at even depth, strided groups ``group(i) = i mod G`` at odd
  depth, so consecutive layers group their units in orthogonal ways, like MLP-Mixer's
  alternation between token and channel mixing.
"""

from __future__ import annotations

import torch

GROUPINGS = ("index", "random", "mixer")


def assign_groups(
    n: int, groups: int, grouping: str, depth: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Group id of every unit of a population.

    Args:
        n: number of units.
        groups: number of groups G.
        grouping: ``index``, ``random`` or ``mixer``.
        depth: position of the population in the network (input is 0).
        generator: randomness for ``random``.

    Returns:
        int64 tensor ``[n]`` with values in ``[0, G)``.
    """
    blocks = torch.arange(n) * groups // n
    if grouping == "index" or (grouping == "mixer" and depth % 2 == 0):
        return blocks
    if grouping == "mixer":
        return torch.arange(n) % groups
    if grouping == "random":
        return blocks[torch.randperm(n, generator=generator)]
    raise ValueError(f"unknown grouping {grouping!r}; choose from {', '.join(GROUPINGS)}")


def g2g_mask(
    pre_groups: torch.Tensor,
    post_groups: torch.Tensor,
    p_inter: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Connectivity mask ``[post, pre]``: 1 inside a group, Bernoulli(p_inter) across groups."""
    same = post_groups[:, None] == pre_groups[None, :]
    draw = torch.rand(same.shape, generator=generator) < p_inter
    return (same | draw).to(torch.float32)


def expected_density(groups: int, p_inter: float) -> float:
    """Expected share of connections kept by :func:`g2g_mask` with balanced groups."""
    return 1.0 / groups + (1.0 - 1.0 / groups) * p_inter
