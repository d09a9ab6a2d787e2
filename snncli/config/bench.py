"""Configuration of ``snn bench``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..data import ENCODINGS
from ..models import list_models, model_defaults
from .base import StrictModel


class BenchConfig(StrictModel):
    """What ``snn bench`` measures: one network shape, both implementations."""

    model: str = Field("dense", description="Model name.")
    hidden_dim: int | None = Field(None, ge=1, description="Hidden width (model default if unset).")
    p_inter: float = Field(0.15, ge=0, le=1, description="Inter-group connection probability (G2G models).")
    groups: int = Field(8, ge=1, description="Groups per layer (G2G models).")
    T: int | None = Field(None, ge=1, description="Time steps (model default if unset).")
    batch_size: int = Field(256, ge=1, description="Samples per step.")
    enc: str = Field("current", description="Input spike encoding.")
    device: Literal["auto", "cpu", "cuda", "mps", "directml"] = Field("auto", description="Device.")
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="Precision of the snn engine.")
    warmup: int = Field(2, ge=0, description="Untimed steps before timing.")
    repeats: int = Field(5, ge=1, description="Timed repeats; the median is reported.")
    steps: int | None = Field(None, ge=1, description="Steps per timed repeat (default: enough for --min-repeat-s).")
    min_repeat_s: float = Field(0.5, gt=0, description="Seconds one timed repeat should last when --steps is unset.")
    threads: int | None = Field(None, ge=1, description="torch threads (default: torch's choice).")
    reference: bool = Field(True, description="Also run the snnTorch per-step reference.")
    memory: bool = Field(True, description="Measure peak training memory.")
    seed: int = Field(42, description="Seed for weights and the batch.")
    allocator: Literal["caching", "system"] = Field(
        "caching", description="caching: keep freed memory for reuse (as `snn train` does), for both implementations."
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        if v not in list_models():
            raise ValueError(f"unknown model; choose from {', '.join(list_models())}")
        return v

    @field_validator("enc")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        if v not in ENCODINGS:
            raise ValueError(f"unknown encoding; choose from {', '.join(ENCODINGS)}")
        return v

    @model_validator(mode="after")
    def _fill_model_defaults(self) -> "BenchConfig":
        defaults = model_defaults(self.model)
        if self.T is None:
            object.__setattr__(self, "T", defaults.get("T", 25))
        if self.hidden_dim is None:
            object.__setattr__(self, "hidden_dim", defaults.get("hidden_dim"))
        return self
