"""Sparse connectivity: G2G masks and dynamic sparse training rules, as pure tensor functions."""

from .dst import GROW_RULES, PRUNE_RULES, Rewiring, correlation, rewire
from .g2g import GROUPINGS, assign_groups, expected_density, g2g_mask

__all__ = [
    "GROUPINGS", "GROW_RULES", "PRUNE_RULES", "Rewiring", "assign_groups", "correlation",
    "expected_density", "g2g_mask", "rewire",
]
