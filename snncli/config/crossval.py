"""Configuration of ``snn crossval``: every ``snn train`` setting, and how the folds are split and scheduled."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .setting import setting
from .train import TrainConfig

CV = "Cross-validation"


class CrossvalConfig(TrainConfig):
    """A training setting cross-validated over k folds."""

    k_folds: int = setting(5, "Number of folds (stratified: at most the samples of the rarest class).", panel=CV, ge=2,
                           le=10_000)
    folds: Literal["stratified", "contiguous"] = setting(
        "stratified", "How folds are cut: stratified (classes balanced, seeded shuffle) or contiguous (unshuffled "
        "blocks, the last takes the remainder: the G2G seed's crossval.py).", panel=CV,
    )
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
    gpus_per_fold: float | None = setting(
        None, "GPUs each fold asks for: Ray tasks reserve them (Ray's assignment is the fold's cuda device); local "
        "--jobs workers each see one GPU, spread over the GPUs. Default: 1 when --device is cuda (or auto and "
        "CUDA is seen here), else 0.", panel=CV, ge=0, le=64, identity=False,
    )

    @model_validator(mode="after")
    def _one_level_of_processes(self) -> CrossvalConfig:
        if self.nproc > 1 and (self.jobs > 1 or self.executor == "ray"):
            raise ValueError("nproc: data-parallel folds run one at a time, in this process's workers; "
                             "use --nproc or --jobs/--executor ray, not both")
        return self

    def train_config(self) -> TrainConfig:
        """The training setting every fold runs."""
        return TrainConfig(**self.model_dump(include=set(TrainConfig.model_fields)))
