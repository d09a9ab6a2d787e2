"""Fused LIF scans for CUDA in Triton: one launch per layer and direction.

The GPU counterpart of ``_kernels.c``, with the same calling convention as :mod:`._native`
(:func:`scan_forward`, :func:`scan_backward`), so :mod:`.lif` picks a backend by device and
nothing else changes. Each program walks a block of neurons through all T steps with the
membrane in registers: every ``[T, M]`` tensor is read or written once, there is no host sync
(beta and threshold are read from device memory) and a whole training step can be captured in
a CUDA graph.

Tested without a GPU through Triton's interpreter (``TRITON_INTERPRET=1``, CPU tensors), against
the PyTorch loops of :mod:`.lif`; see ``tests/neurons/test_triton.py``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from ._native import SURROGATE_IDS, neurons_per_row  # noqa: F401  (same conventions)

BLOCK = 256


@triton.jit
def _surrogate(x, KIND: tl.constexpr, k1, k2):
    if KIND == 0:  # fast sigmoid: 1 / (k|x| + 1)^2
        r = 1.0 / (tl.abs(x) * k1 + 1.0)
        return r * r
    elif KIND == 1:  # atan: (k/2) / (1 + (pi/2 k x)^2)
        y = x * k1
        return (1.0 / (y * y + 1.0)) * k2
    else:  # sigmoid: k s (1 - s)
        s = 1.0 / (1.0 + tl.exp(-(x * k1)))
        return s * (1.0 - s) * k1


@triton.jit
def _rtne(x):
    """fp32 rounded to the nearest bf16 (ties to even), still as fp32: casting it is then exact.
    Spelled out because Triton's interpreter truncates in ``.to(tl.bfloat16)``."""
    bits = x.to(tl.uint32, bitcast=True)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.to(tl.float32, bitcast=True)


@triton.jit
def _lif_fwd(
    cur_ptr, beta_ptr, thr_ptr, spk_ptr, mem_ptr, factor_ptr, mem_keep_ptr, spk_keep_ptr,
    T, M, N, k1, k2,
    CONSTANT: tl.constexpr, BETA_PER_NEURON: tl.constexpr, THR_PER_NEURON: tl.constexpr,
    EXACT: tl.constexpr, KEEP_MEM: tl.constexpr, KEEP_SPK: tl.constexpr, KIND: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < M
    n = offs % N
    if BETA_PER_NEURON:
        b = tl.load(beta_ptr + n, mask=live, other=0.0)
    else:
        b = tl.load(beta_ptr)
    if THR_PER_NEURON:
        th = tl.load(thr_ptr + n, mask=live, other=1.0)
    else:
        th = tl.load(thr_ptr)
    u = tl.zeros([BLOCK], dtype=tl.float32)
    s = tl.zeros([BLOCK], dtype=tl.float32)
    for t in range(0, T):
        row = t * M + offs
        if CONSTANT:
            c = tl.load(cur_ptr + offs, mask=live, other=0.0).to(tl.float32)
        else:
            c = tl.load(cur_ptr + row, mask=live, other=0.0).to(tl.float32)
        u = (b * u + c) - th * s  # at t = 0: u = s = 0, so u = c
        s = tl.where(u - th > 0.0, 1.0, 0.0)
        tl.store(spk_ptr + row, s.to(spk_ptr.dtype.element_ty), mask=live)
        if EXACT:
            tl.store(mem_ptr + row, u, mask=live)
        else:
            tl.store(factor_ptr + row, _rtne(_surrogate(u - th, KIND, k1, k2)).to(tl.bfloat16), mask=live)
        if KEEP_MEM:
            tl.store(mem_keep_ptr + row, _rtne(u).to(tl.bfloat16), mask=live)
        if KEEP_SPK:
            tl.store(spk_keep_ptr + row, s.to(tl.int8), mask=live)


@triton.jit
def _lif_bwd(
    gs_ptr, gm_ptr, factor_ptr, mem_ptr, mem_keep_ptr, spk_keep_ptr, thr_ptr, leak_ptr,
    gc_ptr, db_ptr, dt_ptr,
    T, M, N, k1, k2,
    CONSTANT: tl.constexpr, HAS_GS: tl.constexpr, HAS_GM: tl.constexpr, FROM_FACTOR: tl.constexpr,
    LEAK_PER_NEURON: tl.constexpr, THR_PER_NEURON: tl.constexpr,
    WANT_BETA: tl.constexpr, WANT_THR: tl.constexpr, KIND: tl.constexpr, ROUND_OUT: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = offs < M
    n = offs % N
    if THR_PER_NEURON:
        th = tl.load(thr_ptr + n, mask=live, other=1.0)
    else:
        th = tl.load(thr_ptr)
    if LEAK_PER_NEURON:
        lk = tl.load(leak_ptr + n, mask=live, other=0.0)
    else:
        lk = tl.load(leak_ptr)  # the host passes 0 when there is no leak
    g = tl.zeros([BLOCK], dtype=tl.float32)
    total = tl.zeros([BLOCK], dtype=tl.float32)
    db = tl.zeros([BLOCK], dtype=tl.float32)
    dth = tl.zeros([BLOCK], dtype=tl.float32)
    for i in range(0, T):
        t = T - 1 - i
        row = t * M + offs
        x = tl.zeros([BLOCK], dtype=tl.float32)
        if HAS_GS:
            if FROM_FACTOR:
                f = tl.load(factor_ptr + row, mask=live, other=0.0).to(tl.float32)
            else:
                f = _surrogate(tl.load(mem_ptr + row, mask=live, other=0.0) - th, KIND, k1, k2)
            local = f * tl.load(gs_ptr + row, mask=live, other=0.0).to(tl.float32)
            dth -= local
            x += local
        if HAS_GM:
            x += tl.load(gm_ptr + row, mask=live, other=0.0)
        g = x + lk * g
        if CONSTANT:
            total += g
        else:
            tl.store(gc_ptr + row, _rtne(g).to(gc_ptr.dtype.element_ty) if ROUND_OUT else g, mask=live)
        if t > 0:
            prev = row - M
            if WANT_BETA:
                if FROM_FACTOR:
                    um = tl.load(mem_keep_ptr + prev, mask=live, other=0.0).to(tl.float32)
                else:
                    um = tl.load(mem_ptr + prev, mask=live, other=0.0)
                db += g * um
            if WANT_THR:
                if FROM_FACTOR:
                    sp = tl.load(spk_keep_ptr + prev, mask=live, other=0).to(tl.float32)
                else:
                    sp = tl.where(tl.load(mem_ptr + prev, mask=live, other=0.0) - th > 0.0, 1.0, 0.0)
                dth -= g * sp
    if CONSTANT:
        tl.store(gc_ptr + offs, _rtne(total).to(gc_ptr.dtype.element_ty) if ROUND_OUT else total, mask=live)
    if WANT_BETA:
        tl.store(db_ptr + offs, db, mask=live)
    if WANT_THR:
        tl.store(dt_ptr + offs, dth, mask=live)


def _coef(c, device) -> torch.Tensor:
    if isinstance(c, torch.Tensor):
        return c.detach().reshape(-1).to(device=device, dtype=torch.float32).contiguous()
    return torch.full((1,), float(c), dtype=torch.float32, device=device)


def _grid(M: int):
    return (triton.cdiv(M, BLOCK),)


def scan_forward(
    cur_seq: torch.Tensor, T: int, constant: bool, beta, threshold, *, spike_dtype: torch.dtype,
    surrogate: tuple[int, float, float], exact: bool, keep_mem: bool = False, keep_spikes: bool = False,
):
    """Same contract as :func:`snncli.neurons._native.scan_forward`, on the tensor's device."""
    dev = cur_seq.device
    row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
    M = row_shape.numel()
    b, th = _coef(beta, dev), _coef(threshold, dev)
    N = max(b.numel(), th.numel())
    shape = (T, *row_shape)
    spk = torch.empty(shape, dtype=spike_dtype, device=dev)
    mem = torch.empty(shape, dtype=torch.float32, device=dev) if exact else None
    factor = None if exact else torch.empty(shape, dtype=torch.bfloat16, device=dev)
    mem_keep = torch.empty(shape, dtype=torch.bfloat16, device=dev) if keep_mem else None
    spk_keep = torch.empty(shape, dtype=torch.bool, device=dev) if keep_spikes else None
    kind, k1, k2 = surrogate
    dummy = spk
    _lif_fwd[_grid(M)](
        cur_seq.contiguous(), b, th, spk, mem if exact else dummy, factor if not exact else dummy,
        mem_keep if keep_mem else dummy, spk_keep.view(torch.int8) if keep_spikes else dummy,
        T, M, N, k1, k2,
        CONSTANT=constant, BETA_PER_NEURON=b.numel() > 1, THR_PER_NEURON=th.numel() > 1,
        EXACT=exact, KEEP_MEM=keep_mem, KEEP_SPK=keep_spikes, KIND=kind, BLOCK=BLOCK,
    )
    return spk, mem, factor, mem_keep, spk_keep


def scan_backward(
    grad_spk, grad_mem, *, T: int, row_shape: torch.Size, constant: bool, out_dtype: torch.dtype, leak, threshold,
    surrogate: tuple[int, float, float], factor=None, mem=None, mem_keep=None, spk_keep=None,
    beta_like: torch.Tensor | None = None, threshold_like: torch.Tensor | None = None,
):
    """Same contract as :func:`snncli.neurons._native.scan_backward`, on the tensors' device."""
    ref = factor if factor is not None else mem
    dev = ref.device
    M = row_shape.numel()
    th = _coef(threshold, dev)
    lk = None if leak is None else _coef(leak, dev)
    N = max(th.numel(), 1 if lk is None else lk.numel())
    for like in (beta_like, threshold_like):
        if like is not None:
            N = max(N, like.numel())
    out = torch.empty(row_shape if constant else (T, *row_shape), dtype=out_dtype, device=dev)
    db = torch.empty(row_shape, dtype=torch.float32, device=dev) if beta_like is not None else None
    dth = torch.empty(row_shape, dtype=torch.float32, device=dev) if threshold_like is not None else None
    kind, k1, k2 = surrogate
    dummy = out
    _lif_bwd[_grid(M)](
        grad_spk.contiguous() if grad_spk is not None else dummy,
        grad_mem.float().contiguous() if grad_mem is not None else dummy,
        factor if factor is not None else dummy, mem if mem is not None else dummy,
        mem_keep if mem_keep is not None else dummy,
        spk_keep.view(torch.int8) if spk_keep is not None else dummy,
        th, lk if lk is not None else torch.zeros(1, dtype=torch.float32, device=dev), out,
        db if db is not None else dummy, dth if dth is not None else dummy,
        T, M, N, k1, k2,
        CONSTANT=constant, HAS_GS=grad_spk is not None, HAS_GM=grad_mem is not None,
        FROM_FACTOR=factor is not None, LEAK_PER_NEURON=lk is not None and lk.numel() > 1,
        THR_PER_NEURON=th.numel() > 1, WANT_BETA=beta_like is not None, WANT_THR=threshold_like is not None,
        KIND=kind, ROUND_OUT=out_dtype == torch.bfloat16, BLOCK=BLOCK,
    )

    def reduce(per_element, like):
        if like is None:
            return None
        flat = per_element.reshape(-1, like.numel()) if like.numel() > 1 else per_element.reshape(-1, 1)
        return flat.sum(0).reshape(like.shape).to(like.dtype)

    return out, reduce(db, beta_like), reduce(dth, threshold_like)
