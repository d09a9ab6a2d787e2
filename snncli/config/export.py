"""Configuration of ``snn export``: a trained run written in an exchange format."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from .base import StrictModel
from .fields import OptionalWritableDir
from .setting import setting

#: Formats ``snn export`` writes, and the file suffix of each.
FORMATS = {"nir": ".nir", "torch-export": ".pt2"}


def _exists(v: Path) -> Path:
    if not v.exists():
        raise ValueError(f"no such run folder or checkpoint: {v}")
    return v


class ExportConfig(StrictModel):
    """``snn export``: the network of a trained run, for other simulators and neuromorphic hardware."""

    run: Path = setting(..., "Run folder (runs/<name>/) or checkpoint (.pth) written by snn train.", argument=2)
    format: Literal["nir", "torch-export"] = setting(
        "nir", "Exchange format: nir (Neuromorphic Intermediate Representation, HDF5; spiking MLPs), torch-export "
        "(torch.export program, images in -> logits out, any batch size; ANN models).", short="-f")
    out: OptionalWritableDir = setting(None, "Folder for the exported file.", short="-o", default_text="RUN/export")

    _check_run = field_validator("run")(classmethod(lambda cls, v: _exists(v)))
