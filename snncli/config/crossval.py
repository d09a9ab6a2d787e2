"""Configuration of ``snn crossval``: every ``snn train`` setting, and how the folds are split and scheduled."""

from __future__ import annotations

from typing import Literal

from .setting import setting
from .train import TrainConfig

CV = "Cross-validation"


class CrossvalConfig(TrainConfig):
    """A training setting cross-validated over stratified folds."""

    k_folds: int = setting(5, "Number of stratified folds (at most the samples of the rarest class).", panel=CV, ge=2,
                           le=10_000)
    jobs: int = setting(1, "Folds trained at once, each in its own process.", panel=CV, short="-j", ge=1, le=256,
                        identity=False)
    executor: Literal["local", "ray"] = setting(
        "local", "Where folds run: local processes, or Ray tasks (pip install 'snncli[ray]').", panel=CV, identity=False,
    )
    ray_address: str | None = setting(
        None, "Ray cluster to join (e.g. ray://head:10001 or auto); default: start a local Ray instance.", panel=CV,
        identity=False,
    )
    cpus_per_fold: int = setting(
        1, "With Ray: CPUs each fold task reserves (and torch threads it uses).", panel=CV, ge=1, le=1024, identity=False,
    )

    def train_config(self) -> TrainConfig:
        """The training setting every fold runs."""
        return TrainConfig(**self.model_dump(include=set(TrainConfig.model_fields)))
