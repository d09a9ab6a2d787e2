"""``snn bench``: the fused engine against the per-step snnTorch loop (:func:`snncli.engine.bench.run_bench`)."""

from __future__ import annotations

from typing import Any

from ..config.bench import BenchConfig
from ..engine.bench import run_bench
from .common import JobCallbacks


def bench(cfg: BenchConfig, callbacks: JobCallbacks | None = None) -> dict[str, Any]:
    """Throughput and peak memory of both implementations, their ratio and first-step losses."""
    return run_bench(cfg, on_log=(callbacks or JobCallbacks()).on_log)
