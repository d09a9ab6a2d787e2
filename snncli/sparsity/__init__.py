"""Sparse connectivity: G2G masks (and, later, dynamic sparse training rules) as pure tensor functions."""

from .g2g import GROUPINGS, assign_groups, expected_density, g2g_mask

__all__ = ["GROUPINGS", "assign_groups", "expected_density", "g2g_mask"]
