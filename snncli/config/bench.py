"""Configuration of ``snn bench``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .setting import setting

from .fields import SEED_MAX, DatasetName, Device, NetworkSettings, Precision


class BenchConfig(NetworkSettings):
    """What ``snn bench`` measures: one network shape, both implementations."""

    batch_size: int = setting(256, "Samples per step.", short="-b", ge=1, le=1_000_000)
    device: Device = Field("auto", description="Device.")
    precision: Precision = Field("auto", description="Precision of the snn engine (as in snn train: auto, fp32, fp32-events, bf16).")
    warmup: int = Field(2, ge=0, le=10_000, description="Untimed steps before timing.")
    repeats: int = Field(5, ge=1, le=10_000, description="Timed repeats; the median is reported.")
    steps: int | None = Field(None, ge=1, le=1_000_000, description="Steps per timed repeat (default: enough for --min-repeat-s).")
    min_repeat_s: float = Field(0.5, gt=0, le=3600, description="Seconds one timed repeat should last when --steps is unset.")
    threads: int | None = setting(None, "torch threads (default: torch's choice).", ge=1, le=1024, identity=False)
    reference: bool = Field(True, description="Also run the snnTorch per-step reference.")
    memory: bool = Field(True, description="Measure peak training memory.")
    seed: int = Field(42, ge=0, le=SEED_MAX, description="Seed for weights and the batch.")
    allocator: Literal["caching", "system"] = Field(
        "caching", description="caching: keep freed memory for reuse (as `snn train` does), for both implementations."
    )
    hidden_layers: int | None = Field(
        None, ge=1, le=16, description="Hidden layers of width --hidden-dim (MLP models; model default if unset)."
    )
    against: list[Literal["spikingjelly", "norse"]] = setting(
        [], "Also run these libraries' idiomatic twins, comma-separated (optional extras: "
        "pip install spikingjelly norse torch==<your torch>).", comma=True, metavar="LIBS",
    )
    interleave: bool = Field(True, description="Alternate the implementations repeat by repeat, so load changes hit all alike.")
    weights: str | None = Field(
        None, description="State dict (torch.save) of a trained network of this shape: bench at its firing rates."
    )
    data: DatasetName | None = setting(
        None, "Take the batch from this dataset's test images (the first --batch-size, as the network was trained "
        "on them) instead of random pixels: with --weights, the network fires at its real rates. Must have the "
        "network's input shape.", metavar="DATASET")

    @field_validator("against", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v
