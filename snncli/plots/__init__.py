"""Figures: matplotlib only, headless (Agg). Nothing outside this package draws."""
