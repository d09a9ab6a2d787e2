"""Sparse connectivity: G2G masks and dynamic sparse training rules, as pure tensor functions."""

from .dst import GROW_RULES, PRUNE_RULES, Rewiring, correlation, cosine_similarity, rewire
from .g2g import (
    GROUPINGS,
    SIDES,
    Grouping,
    expected_density,
    g2g_groupings,
    g2g_mask,
    group_ids,
    intra_group_coverage,
    layer_sides,
    path_coverage,
)

__all__ = [
    "GROUPINGS", "GROW_RULES", "PRUNE_RULES", "SIDES", "Grouping", "Rewiring", "correlation",
    "cosine_similarity", "expected_density", "g2g_groupings", "g2g_mask", "group_ids",
    "intra_group_coverage", "layer_sides", "path_coverage", "rewire",
]
