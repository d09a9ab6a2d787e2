"""Device and precision selection, and reproducibility switches."""

from __future__ import annotations

import importlib.util
import os
import random
import sys

import numpy as np
import torch

from ..errors import SnnError
from ..neurons import _native


class DeviceUnavailableError(SnnError, RuntimeError):
    """The requested device is not present on this machine."""


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto|cpu|cuda|cuda:N|mps|directml`` to a device; auto tries CUDA, MPS, DirectML, then CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        if importlib.util.find_spec("torch_directml") is not None:
            return _directml()
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailableError("--device cuda: no CUDA device visible to torch (try --device auto)")
    if name.startswith("cuda:"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if int(name[5:]) >= count:
            raise DeviceUnavailableError(f"--device {name}: torch sees {count} CUDA device{'s' if count != 1 else ''}"
                                         + (f" (cuda:0 to cuda:{count - 1})" if count else " (try --device auto)"))
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DeviceUnavailableError("--device mps: MPS is not available on this machine (try --device auto)")
    if name == "directml":
        if importlib.util.find_spec("torch_directml") is None:
            raise DeviceUnavailableError("--device directml: install torch-directml first (pip install torch-directml)")
        return _directml()
    return torch.device(name)


def _directml() -> torch.device:
    import torch_directml  # optional; only present on Windows/AMD set-ups

    return torch_directml.device()


def bf16_matmul_is_fast(device: torch.device) -> bool:
    """Whether bfloat16 products beat fp32 here: CUDA with bf16 support, or a CPU with AVX512-BF16/AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and _cpu_has_native_bf16()
        except (AttributeError, RuntimeError):
            return False
    return False


def _cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX in the CPU's flags (read as the kernels' build key reads them; off Linux there
    are none: conservative)."""
    flags = _native._cpu_signature()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` becomes ``bf16`` where bf16 products are fast, else ``fp32-events`` on a CPU (fp32 products,
    event-driven where spikes are sparse), else ``fp32``."""
    if precision == "auto":
        if bf16_matmul_is_fast(device):
            return "bf16"
        return "fp32-events" if device.type == "cpu" else "fp32"
    return precision


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_ALLOCATOR_TUNED = False


def _mallopt(param: int, value: int) -> bool:
    """Set a glibc malloc parameter; False where there is no glibc (macOS, Windows, musl)."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").mallopt(param, value))
    except (OSError, AttributeError):
        return False


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks for reuse instead of returning them to the OS.

    Training allocates and frees the same large ``[T, B, N]`` tensors every step. By default
    glibc serves each from fresh ``mmap``ed pages, and the kernel's page faults and zeroing
    then cost about as much as the arithmetic (measured: dense T=50 B=256 trains 35% faster
    with this). It is what a caching allocator does on GPUs: peak memory is unchanged, but
    the process keeps it until it exits. Returns whether the setting took effect.
    """
    global _ALLOCATOR_TUNED
    if not _ALLOCATOR_TUNED:
        largest = 2**31 - 1
        _ALLOCATOR_TUNED = _mallopt(_M_MMAP_THRESHOLD, largest) and _mallopt(_M_TRIM_THRESHOLD, largest)
    return _ALLOCATOR_TUNED


def return_freed_memory(threshold: int = 64 * 1024) -> bool:
    """The opposite of :func:`keep_freed_memory`: serve every block of ``threshold`` bytes or more
    from its own ``mmap`` and unmap it when freed, so the resident set tracks live tensors.

    Used by the memory probe of ``snn bench``: the high-water mark of the resident set then
    measures the peak of live memory, not whatever the heap happened to keep.
    """
    return _mallopt(_M_MMAP_THRESHOLD, threshold)


def peak_rss_mb() -> float | None:
    """The process's peak resident set in MiB; ``None`` where the platform has no ``resource`` module (Windows)."""
    try:
        import resource  # POSIX only: imported here so that Windows (--device directml) still runs
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # macOS: bytes; Linux: KiB


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels where it has them
    (without the NaN fill of new tensors that deterministic mode switches on)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills every new tensor with NaN (to expose reads of uninitialised
    # memory); determinism does not need it, and it cost ~18% of a dense training step.
    if hasattr(torch.utils, "deterministic"):
        torch.utils.deterministic.fill_uninitialized_memory = False
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False


def visible_gpus() -> list[dict[str, object]]:
    """The CUDA GPUs this process sees (after ``CUDA_VISIBLE_DEVICES``): index, name, memory in GiB."""
    if not torch.cuda.is_available():
        return []
    gpus = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        gpus.append({"index": i, "name": props.name, "memory_gib": round(props.total_memory / 2**30, 1)})
    return gpus


def distributed_backends() -> list[str]:
    """The torch.distributed backends this torch build has (``gloo`` for CPU, ``nccl`` for CUDA)."""
    import torch.distributed as dist

    if not dist.is_available():
        return []
    return [name for name, ok in (("gloo", dist.is_gloo_available()), ("nccl", dist.is_nccl_available())) if ok]
