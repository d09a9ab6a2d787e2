"""Event-driven (spike-sparse) products: the layer before a LIF population reads only the spikes.

A ``[R, N]`` 0/1 spike matrix at firing rate ``p`` holds ``p R N`` events; a dense product does
``R N O`` multiply-adds whatever ``p``, an event-driven one ``p R N O`` additions. Whether that is
faster depends on ``p`` and the machine (scattered rows against the dense kernels' peak): see
``benchmarks/README.md`` for the measured crossover and :data:`DEFAULT_MAX_RATE`.

The kernels are the native ones of ``_kernels.c``; without them :func:`available` is ``False``
and callers use the dense product.
"""

from __future__ import annotations

import torch

from . import _native
from ._native import THIN_MAX, events, events_matmul, events_weight_grad, thin_input_grad, thin_linear, thin_weight_grad

def _has_amx() -> bool:
    """Whether the CPU has AMX tile units for bf16 (its /proc/cpuinfo flags, as the kernels' build key
    reads them; ``False`` where there are none)."""
    return " amx_bf16" in _native._cpu_signature()


#: Largest input firing rate at which a layer takes the event-driven path, by CPU kind. Crossover
#: of spike lists + forward + weight gradient against the dense bf16 products for a 2048 -> 2048
#: layer over 12 800 rows (benchmarks/README.md): 17% on an AVX512-BF16 AMD EPYC (2026-12-02, the
#: vector event loops; 12% before them). A CPU with AMX runs the dense products about 2.2x faster;
#: there it was 5.5% with the earlier event loops, which the vector loops run 1.4-2x faster.
MAX_RATE_WITHOUT_AMX = 0.15
MAX_RATE_WITH_AMX = 0.07
DEFAULT_MAX_RATE = MAX_RATE_WITH_AMX if _has_amx() else MAX_RATE_WITHOUT_AMX
#: The same choice against dense *fp32* products (``--precision fp32-events``, what ``auto`` picks on a
#: CPU without fast bf16). Spike lists + forward + weight gradient against the two fp32 BLAS products,
#: 2048 -> 2048 over 12 800 rows, AVX2 event loops (AMD EPYC without AVX-512, 2 threads, 2026-12-02):
#: 2 %: 290 vs 1641 ms, 10 %: 524 vs 1265, 20 %: 828 vs 1307, 25 %: 1088 vs 1298, 30 %: 1362 vs 1334;
#: crossover about 30 %, the switch a margin below it.
FP32_MAX_RATE = 0.25


def available(x: torch.Tensor) -> bool:
    """Whether an event-driven product can run on ``x`` (CPU tensor, native kernels built)."""
    return x.device.type == "cpu" and x.dtype in _native.DTYPES and _native.library() is not None


__all__ = [
    "DEFAULT_MAX_RATE", "FP32_MAX_RATE", "THIN_MAX", "available", "events", "events_matmul", "events_weight_grad", "thin_input_grad",
    "thin_linear", "thin_weight_grad",
]
