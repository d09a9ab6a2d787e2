"""Guards against numbers and sizes a run cannot survive: non-finite weights and losses, and allocations
that do not fit in memory. Each failure is one :class:`~snncli.errors.SnnError` line, never a traceback
or a run that trains on NaN to ``.DONE``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch

from ..errors import SnnError


class DivergedError(SnnError, FloatingPointError):
    """Training produced a non-finite loss or non-finite weights; the last good checkpoint is kept (exit 1)."""

    exit_code = 1


class AllocationError(SnnError, MemoryError):
    """A tensor the settings ask for does not fit in memory; nothing was written."""


def non_finite(tensors: Any, prefix: str = "") -> list[str]:
    """Names of the floating-point tensors in ``tensors`` (a tensor, or nested mappings and lists of them)
    that hold a NaN or an infinity."""
    if isinstance(tensors, torch.Tensor):
        if tensors.is_floating_point() or tensors.is_complex():
            return [] if bool(torch.isfinite(tensors).all()) else [prefix or "tensor"]
        return []
    if isinstance(tensors, float):
        return [] if math.isfinite(tensors) else [prefix or "value"]
    if isinstance(tensors, Mapping):
        return [n for k, v in tensors.items() for n in non_finite(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(tensors, (list, tuple)):
        return [n for i, v in enumerate(tensors) for n in non_finite(v, f"{prefix}[{i}]")]
    return []


def detail(exc: BaseException, limit: int = 160) -> str:
    """The informative line of an error message: its first line, or the one after a header ending in ``:``
    (``Error(s) in loading state_dict for SpikingMLP:`` says less than the ``Missing key(s) ...`` below it)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def named(names: list[str], limit: int = 3) -> str:
    """``a, b, c and 4 more``."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def model_non_finite(model: torch.nn.Module) -> list[str]:
    """Parameters and buffers of ``model`` holding NaN or inf."""
    return non_finite(dict(model.state_dict()))


_BYTES = re.compile(r"allocate (\d+) bytes")
_MARKERS = ("can't allocate memory", "out of memory", "cannot allocate memory", "not enough memory",
            "bad_alloc", "integer multiplication overflow")


def is_allocation_failure(exc: BaseException) -> bool:
    """An error of the allocator (CPU or GPU), not of the code."""
    if isinstance(exc, MemoryError) and not isinstance(exc, AllocationError):
        return True
    if isinstance(exc, getattr(torch, "OutOfMemoryError", ())):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _MARKERS)


def _size(exc: BaseException) -> str:
    m = _BYTES.search(str(exc))
    if not m:
        return ""
    n = int(m.group(1))
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


@contextmanager
def memory_guard(what: str, hint: str = "use a smaller --hidden-dim, --T or --batch-size") -> Iterator[None]:
    """Turn an allocation failure inside the block into one :class:`AllocationError` line about ``what``."""
    try:
        yield
    except BaseException as exc:
        if not is_allocation_failure(exc):
            raise
        size = _size(exc)
        raise AllocationError(f"{what}: not enough memory" + (f" (it asked for {size})" if size else "") + f"; {hint}") from None
