"""Configuration of ``snn bench``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .setting import setting

from .fields import Device, NetworkSettings, Precision


class BenchConfig(NetworkSettings):
    """What ``snn bench`` measures: one network shape, both implementations."""

    batch_size: int = setting(256, "Samples per step.", short="-b", ge=1)
    device: Device = Field("auto", description="Device.")
    precision: Precision = Field("auto", description="Precision of the snn engine.")
    warmup: int = Field(2, ge=0, description="Untimed steps before timing.")
    repeats: int = Field(5, ge=1, description="Timed repeats; the median is reported.")
    steps: int | None = Field(None, ge=1, description="Steps per timed repeat (default: enough for --min-repeat-s).")
    min_repeat_s: float = Field(0.5, gt=0, description="Seconds one timed repeat should last when --steps is unset.")
    threads: int | None = setting(None, "torch threads (default: torch's choice).", ge=1, identity=False)
    reference: bool = Field(True, description="Also run the snnTorch per-step reference.")
    memory: bool = Field(True, description="Measure peak training memory.")
    seed: int = Field(42, description="Seed for weights and the batch.")
    allocator: Literal["caching", "system"] = Field(
        "caching", description="caching: keep freed memory for reuse (as `snn train` does), for both implementations."
    )
