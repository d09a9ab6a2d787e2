"""Configuration of ``snn crossval`` beyond the training settings it shares with ``snn train``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import StrictModel


class CrossvalConfig(StrictModel):
    """How to split and schedule the folds."""

    k_folds: int = Field(5, ge=2, description="Number of folds.")
    folds: Literal["stratified", "contiguous"] = Field(
        "stratified", description="How folds are cut: stratified (classes balanced, seeded shuffle) or contiguous "
        "(unshuffled blocks, the last takes the remainder: the G2G seed's crossval.py).",
    )
    jobs: int = Field(1, ge=1, description="Folds trained at once, each in its own process.")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where folds run: local processes, or Ray tasks (pip install 'snncli[ray]')."
    )
    ray_address: str | None = Field(
        None, description="Ray cluster to join (e.g. ray://head:10001 or auto); default: start a local Ray instance."
    )
    cpus_per_fold: int = Field(1, ge=1, description="With Ray: CPUs each fold task reserves (and torch threads it uses).")
