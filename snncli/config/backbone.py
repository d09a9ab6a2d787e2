"""Configuration of ``snn backbone train``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from .base import StrictModel
from .fields import SEED_MAX, DatasetName, Device, cifar_like, unusable_dir
from .setting import setting


class BackboneConfig(StrictModel):
    """``snn backbone train``: train the CIFAR ResNet-32 that ``--use-resnet`` freezes."""

    dataset: DatasetName = Field("cifar10", description="CIFAR-shaped dataset to train on.")
    data_root: Path | None = Field(None, description="Folder with the dataset files.")
    epochs: int = Field(30, ge=1, le=100_000, description="Training epochs.")
    batch_size: int = setting(128, "Images per step.", short="-b", ge=1, le=1_000_000)
    max_batches: int | None = setting(None, "Stop each epoch after this many batches (smoke runs).", ge=1, le=100_000_000)
    lr: float = Field(0.1, gt=0, le=10, description="Peak learning rate (one-cycle schedule, SGD with Nesterov momentum).")
    device: Device = Field("auto", description="Device.")
    seed: int = Field(42, ge=0, le=SEED_MAX, description="Seed.")
    out: Path | None = setting(None, "Where to store it (default: the user cache, where --use-resnet looks).", short="-o")

    @model_validator(mode="after")
    def _cifar_only(self):
        if self.dataset not in cifar_like():
            raise ValueError(f"dataset: ResNet-32 is for 32x32 colour images ({', '.join(cifar_like())})")
        if self.data_root is not None and not self.data_root.is_dir():
            raise ValueError(f"data_root: folder does not exist: {self.data_root}")
        if self.out is not None:
            problem = "it is a folder; name the file to write" if self.out.is_dir() else unusable_dir(self.out.parent)
            if problem:
                raise ValueError(f"out: {problem}")
        return self
