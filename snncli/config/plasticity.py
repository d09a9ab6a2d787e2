"""Configuration of ``snn plasticity``: the supervised baseline (the plasticity seed's settings) and the
unsupervised post-training that follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from ..plasticity import list_rules
from .base import StrictModel
from .fields import (
    DatasetName,
    Device,
    EncodingName,
    ExistingDir,
    SurrogateName,
    one_of,
)
from .train import TrainConfig

RuleName = Annotated[str, one_of("plasticity rule", list_rules)]


class PlasticityConfig(StrictModel):
    """Every setting of a plasticity experiment; defaults are the seed study's."""

    # The supervised baseline: an ordinary `snn train` run of the `mlp` model.
    dataset: DatasetName = Field("fashionmnist", description="Dataset name.")
    data_root: ExistingDir = Field(None, description="Folder with the dataset files.")
    hidden_dim: int = Field(512, ge=1, description="Hidden LIF neurons (784-hidden-classes).")
    T: int = Field(25, ge=1, description="Time steps per input.")
    beta: float = Field(0.9, gt=0, le=1, description="Membrane decay per step.")
    surrogate: SurrogateName = Field(
        "atan", description="Surrogate gradient of the baseline (atan: snnTorch Leaky's default, as in the seed)."
    )
    enc: EncodingName = Field("current", description="Input spike encoding.")
    epochs: int = Field(10, ge=1, description="Supervised training epochs of the baseline.")
    batch_size: int = Field(128, ge=1, description="Samples per step (training and post-training).")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate of the baseline.")
    alpha_reg: float = Field(1e-4, ge=0, description="Spike-activity penalty: alpha * spikes per sample (all layers, all steps).")
    weight_clip: float | None = Field(1.0, gt=0, description="Clamp weights to [-c, c] after every step, supervised and plastic.")
    val_fraction: float = Field(0.0, ge=0, lt=1, description="Share of the training set held out for validation (the seed holds none).")
    checkpoint: Path | None = Field(None, description="Start from this trained run (folder or .pth) instead of training a baseline.")
    baseline: Literal["supervised", "stdp"] = Field(
        "supervised", description="supervised: BPTT baseline, then post-training; stdp: the network trained by STDP alone."
    )
    # Post-training.
    rule: RuleName = Field("hebb", description="Unsupervised rule applied after training.")
    eta: list[float] = Field([1e-5], min_length=1, description="Plasticity learning rate; repeat for several (each starts from the baseline).")
    post_epochs: int = Field(3, ge=1, description="Unsupervised passes over the training set.")
    tau: float = Field(5.0, gt=0, description="STDP trace time constant, in time steps.")
    # The STDP-only baseline.
    stdp_epochs: int = Field(1, ge=1, description="--baseline stdp: unsupervised passes over the training set.")
    stdp_eta: float = Field(1.25, gt=0, description="--baseline stdp: STDP learning rate.")
    # The run.
    out: Path = Field(Path("runs"), description="Folder that holds run folders.")
    seed: int = Field(42, description="Seed for Python, NumPy and torch.")
    device: Device = Field("auto", description="auto picks CUDA, then MPS, then DirectML, then CPU.")
    max_batches: int | None = Field(None, ge=1, description="Stop every pass after this many batches (smoke runs).")
    force: bool = Field(False, description="Redo everything: retrain the baseline, redo every eta.")

    @field_validator("eta")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        bad = [e for e in v if not e > 0]
        if bad:
            raise ValueError("every eta must be > 0")
        return list(dict.fromkeys(v))  # a repeated value is one run

    def train_config(self) -> TrainConfig:
        """The supervised baseline as an `snn train` setting (model ``mlp``, Adam, loss on spike counts)."""
        return TrainConfig(
            dataset=self.dataset, data_root=self.data_root, model="mlp", hidden_dim=self.hidden_dim, T=self.T,
            beta=self.beta, surrogate=self.surrogate, enc=self.enc, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            optimizer="adam", loss="count", alpha_reg=self.alpha_reg, weight_clip=self.weight_clip,
            val_fraction=self.val_fraction, out=self.out, seed=self.seed, device=self.device,
            max_batches=self.max_batches, force=self.force,
        )

    def folder_name(self) -> str:
        """``plasticity_{dataset}_mlp{hidden}_T{T}_{enc}``: the experiment that every rule shares."""
        return f"plasticity_{self.dataset}_mlp{self.hidden_dim}_T{self.T}_{self.enc}"
