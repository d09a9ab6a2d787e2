"""Configuration of ``snn train`` (and of every command that trains through the same engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .fields import DatasetName, Device, NetworkSettings, Precision, SurrogateName

class TrainConfig(NetworkSettings):
    """Every setting of a training run. Flags, config files and sweeps all fill this one model."""

    dataset: DatasetName = Field("fashionmnist", description="Dataset name.")
    epochs: int = Field(20, ge=1, description="Training epochs.")
    batch_size: int = Field(256, ge=1, description="Samples per training step.")
    lr: float = Field(1e-3, gt=0, description="Learning rate.")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="Optimizer.")
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")
    enc_scale: float = Field(1.0, description="Encoding scale: input = pixel * scale + bias.")
    enc_bias: float = Field(0.0, description="Encoding bias.")
    beta: float = Field(0.9, gt=0, le=1, description="Membrane decay per step.")
    threshold: float = Field(1.0, gt=0, description="Firing threshold.")
    surrogate: SurrogateName = Field("fast_sigmoid", description="Surrogate gradient.")
    loss: Literal["count", "membrane"] = Field(
        "count", description="Cross-entropy on output spike counts, or on time-summed membrane."
    )
    val_fraction: float = Field(0.1, ge=0, lt=1, description="Share of the training set held out for validation.")
    sparsity_mode: Literal["static"] = Field("static", description="Connectivity mode.")
    enforce_sparsity: bool = Field(False, description="Firing-rate regularisation after the warm-up.")
    warmup_epochs: int = Field(10, ge=0, description="Epochs before firing-rate regularisation starts.")
    rate_reg: float = Field(1e-2, ge=0, description="Weight of the firing-rate penalty.")
    use_resnet: bool = Field(False, description="Frozen ResNet-32 features (CIFAR).")
    data_root: Path | None = Field(None, description="Folder with the dataset files.")
    out: Path = Field(Path("runs"), description="Folder that holds run folders.")
    seed: int = Field(42, description="Seed for Python, NumPy and torch.")
    device: Device = Field("auto", description="auto picks CUDA, then MPS, then DirectML, then CPU.")
    precision: Precision = Field(
        "auto", description="bf16: spike x weight products in bfloat16 (exact spikes, fp32 accumulation)."
    )
    engine: Literal["snn", "snntorch"] = Field(
        "snn", description="snntorch: train the same network with snnTorch's per-step Leaky loop (parity checks)."
    )
    force: bool = Field(False, description="Re-run a finished run instead of skipping it.")
    max_batches: int | None = Field(None, ge=1, description="Stop each epoch after this many batches (smoke runs).")

    @field_validator("data_root")
    @classmethod
    def _root_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_dir():
            raise ValueError(f"folder does not exist: {v}")
        return v

    @model_validator(mode="after")
    def _no_resnet_yet(self) -> "TrainConfig":
        if self.use_resnet:
            raise ValueError("use_resnet: the frozen ResNet-32 extractor is not available in this version")
        return self

    def run_name(self) -> str:
        """The seed's checkpoint name: ``{dataset}_{model}_p{p_inter}_T{T}_{enc}``."""
        name = f"{self.dataset}_{self.model}_p{self.p_inter:g}_T{self.T}_{self.enc}"
        return name + ("_snntorch" if self.engine == "snntorch" else "")
