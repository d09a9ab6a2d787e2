"""Configuration of ``snn plasticity``: the supervised baseline (the plasticity seed's settings) and the
unsupervised post-training that follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from ..data import MeanStd
from ..data.normalization import Normalization
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
        "fast_sigmoid", description="Surrogate gradient of the baseline (the seed's snnTorch fast_sigmoid, slope 25)."
    )
    enc: EncodingName = Field("current", description="Input spike encoding.")
    normalize: Normalization = Field(
        "dataset",
        description="Input (x - mean) / std before encoding: dataset = the training set's pixel mean/std (MNIST: the seed's "
        "0.1307/0.3081), mnist = the seed's constants on any dataset, none = pixels in [0, 1].",
    )
    epochs: int = Field(10, ge=1, description="Supervised training epochs of the baseline.")
    batch_size: int = Field(128, ge=1, description="Samples per step (training and post-training).")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate of the baseline.")
    alpha_reg: float = Field(1e-4, ge=0, description="Spike-activity penalty of the baseline (alpha times --alpha-reg-term).")
    alpha_reg_term: Literal["output-mean", "all-spikes"] = Field(
        "output-mean", description="output-mean: the seed's mean of the output spikes; all-spikes: spikes per sample, every layer and step."
    )
    weight_clip: float | None = Field(
        None, gt=0, description="Clamp weights and biases to [-c, c] after every training step of the baseline (the seed: none)."
    )
    val_fraction: float = Field(0.0, ge=0, lt=1, description="Share of the training set held out for validation (the seed holds none).")
    checkpoint: Path | None = Field(None, description="Start from this trained run (folder or .pth) instead of training a baseline.")
    baseline: Literal["supervised", "stdp"] = Field(
        "supervised", description="supervised: BPTT baseline, then post-training; stdp: the network trained by STDP alone."
    )
    # Post-training.
    rule: RuleName = Field("hebb-anti-hebb", description="Unsupervised rule applied after training.")
    eta: list[float] = Field(
        [1e-5, 1e-4], min_length=1,
        description="Plasticity learning rate; repeat for several (each starts from the baseline). Smallest: the seed's 'gentle', largest: 'strong'.",
    )
    post_epochs: int = Field(3, ge=1, description="Unsupervised passes over the training set.")
    lambda_ltd: float = Field(0.5, ge=0, description="hebb-anti-hebb: strength of the anti-Hebbian term (the seed's lambda_ltd).")
    tau: float = Field(5.0, gt=0, description="STDP trace time constant, in time steps.")
    post_clip: float = Field(
        1.0, ge=0, description="Clamp weights to [-c, c] after every post-training batch (0: no clipping)."
    )
    clip_biases: bool = Field(False, description="--post-clip clamps the biases too (the seed: weights only).")
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

    def train_config(self, norm: MeanStd | None = None) -> TrainConfig:
        """The supervised baseline as an `snn train` setting (model ``mlp``, Adam, loss on spike counts).

        Args:
            norm: the resolved ``normalize`` statistics (``None``: pixels as they are); they become
                the encoder's ``enc_scale`` / ``enc_bias``, so every later use of the run applies them.
        """
        scale, bias = norm.affine() if norm is not None else (1.0, 0.0)
        return TrainConfig(
            dataset=self.dataset, data_root=self.data_root, model="mlp", hidden_dim=self.hidden_dim, T=self.T,
            beta=self.beta, surrogate=self.surrogate, enc=self.enc, enc_scale=scale, enc_bias=bias, epochs=self.epochs,
            batch_size=self.batch_size, lr=self.lr, optimizer="adam", loss="count", alpha_reg=self.alpha_reg,
            alpha_reg_term=self.alpha_reg_term, weight_clip=self.weight_clip, val_fraction=self.val_fraction, out=self.out,
            seed=self.seed, device=self.device, max_batches=self.max_batches, force=self.force,
        )

    def folder_name(self) -> str:
        """``plasticity_{dataset}_mlp{hidden}_T{T}_{enc}[_norm-{normalize}]``: the experiment that every rule shares."""
        name = f"plasticity_{self.dataset}_mlp{self.hidden_dim}_T{self.T}_{self.enc}"
        return name if self.normalize == "dataset" else f"{name}_norm-{self.normalize}"
