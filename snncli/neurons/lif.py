r"""Leaky integrate-and-fire neurons as pure functions over time.

Dynamics (discrete time, reset by subtraction, the semantics of ``snntorch.Leaky``):

.. math::

    U_t = \beta U_{t-1} + I_t - \vartheta S_{t-1}, \qquad S_t = H(U_t - \vartheta)

with :math:`U_{-1} = 0`, :math:`S_{-1} = 0`. The reset term is treated as a constant in the
backward pass (snnTorch detaches it), so the only path through time is the leak
:math:`\partial U_t / \partial U_{t-1} = \beta`, and the surrogate replaces :math:`H'`.

``LIFParams.through_time=False`` also detaches :math:`U_{t-1}`: the forward pass is unchanged,
but gradients flow through space only (each step's current gets ``dL/dS_t H'(U_t - theta)``
and nothing from later steps). That is PlasticFlex's non-STBP variant; the default is
spatio-temporal backpropagation (STBP, Wu et al. 2018, i.e. BPTT).

Two implementations that agree to floating-point rounding:

* :func:`lif_step`: one step, plain autograd. The readable reference, and what the
  per-step snnTorch loop computes.
* :func:`lif_sequence`: a whole ``[T, B, ...]`` sequence in one fused ``autograd.Function``.
  Forward is a loop of in-place ops with no graph; backward is the closed-form reverse
  recurrence :math:`G_t = \partial L/\partial S_t \cdot H'(U_t-\vartheta) + \partial L/\partial U_t + \beta G_{t+1}`,
  so training stores one membrane tensor per layer instead of T small graphs. With
  ``compact=True`` it keeps only two membrane rows and saves the surrogate derivative in
  bf16, backward runs a few steps at a time; first order only.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .surrogate import Surrogate, get_surrogate, spike


class LIFParams(NamedTuple):
    """Parameters of a LIF population.

    Attributes:
        beta: membrane decay per time step, dimensionless in [0, 1] (``exp(-dt / tau_mem)``).
        threshold: firing threshold, in the units of the input current.
        surrogate: name of the surrogate derivative (see ``snncli.neurons.surrogate``).
        slope: surrogate steepness; ``None`` takes the surrogate's default.
        through_time: backpropagate through the membrane's leak (STBP/BPTT); ``False`` detaches
            the previous membrane, leaving the gradient through space only.
    """

    beta: float = 0.9
    threshold: float = 1.0
    surrogate: str = "fast_sigmoid"
    slope: float | None = None
    through_time: bool = True


class LIFState(NamedTuple):
    """State carried between steps: membrane potential ``mem`` (same units as the threshold)."""

    mem: torch.Tensor


def _surrogate(params: LIFParams) -> tuple[Surrogate, float]:
    spec = get_surrogate(params.surrogate)
    return spec, spec.default_slope if params.slope is None else params.slope


def lif_step(
    cur: torch.Tensor, state: LIFState | None, params: LIFParams
) -> tuple[torch.Tensor, LIFState]:
    """Advance one time step with plain autograd.

    Args:
        cur: input current ``I_t``, shape ``[B, ...]``.
        state: previous state, or ``None`` for rest (``U = 0``).
        params: neuron parameters.

    Returns:
        ``(spikes, new_state)``; spikes have ``cur``'s shape and dtype.
    """
    if state is None:
        mem = cur  # from rest: beta * 0 + I_0, and no reset
    else:
        reset = (state.mem > params.threshold).to(cur.dtype)  # detached, as in snnTorch
        prev = state.mem if params.through_time else state.mem.detach()
        mem = params.beta * prev + cur - params.threshold * reset
    spk = spike(mem - params.threshold, params.surrogate, params.slope)
    return spk, LIFState(mem)


def _scan_forward(
    cur_seq: torch.Tensor, T: int, constant: bool, beta: float, threshold: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Membrane ``U`` and spikes ``S`` (0/1 in U's dtype), both [T, ...], for ``cur_seq``.

    ``cur_seq`` is [T, ...], or one step [...] repeated T times when ``constant``.
    The loop is dispatch-bound at the sizes used here, so each step is five cheap in-place
    float ops; ``sign(U - theta)`` clamped at 0 is exactly ``1[U > theta]`` and, unlike a
    comparison, needs no bool tensor and no later conversion (measured 1.5x faster).
    """
    shape = (T, *cur_seq.shape) if constant else cur_seq.shape
    mem_seq = torch.empty(shape, dtype=cur_seq.dtype, device=cur_seq.device)
    spk_seq = torch.empty_like(mem_seq)
    mem_seq[0].copy_(cur_seq if constant else cur_seq[0])
    torch.sub(mem_seq[0], threshold, out=spk_seq[0]).sign_().clamp_(min=0)
    for t in range(1, T):
        out = mem_seq[t]
        torch.add(cur_seq if constant else cur_seq[t], mem_seq[t - 1], alpha=beta, out=out)
        out.sub_(spk_seq[t - 1], alpha=threshold)  # reset by subtraction of the previous step's spikes
        torch.sub(out, threshold, out=spk_seq[t]).sign_().clamp_(min=0)
    return mem_seq, spk_seq


def _scan_forward_compact(
    cur_seq: torch.Tensor, T: int, constant: bool, beta: float, threshold: float,
    spike_dtype: torch.dtype, spec: Surrogate, slope: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes [T, ...] in ``spike_dtype`` and the surrogate factor H'(U - theta) [T, ...] in bf16.

    Keeps only two membrane rows: nothing of size [T, ...] in fp32 is ever allocated, which is
    what bounds training memory of wide layers.
    """
    row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
    dev = cur_seq.device
    spk_seq = torch.empty((T, *row_shape), dtype=spike_dtype, device=dev)
    factor = torch.empty((T, *row_shape), dtype=torch.bfloat16, device=dev)
    mem, prev = (torch.empty(row_shape, dtype=torch.float32, device=dev) for _ in range(2))
    shifted, spk = (torch.empty_like(mem) for _ in range(2))
    for t in range(T):
        cur_t = cur_seq if constant else cur_seq[t]
        if t == 0:
            mem.copy_(cur_t)
        else:
            torch.add(cur_t, prev, alpha=beta, out=mem)
            mem.sub_(spk, alpha=threshold)
        torch.sub(mem, threshold, out=shifted)
        torch.sign(shifted, out=spk).clamp_(min=0)
        spk_seq[t].copy_(spk)
        factor[t].copy_(spec.grad_(shifted, slope))
        mem, prev = prev, mem
    return spk_seq, factor


class _LIFSequenceCompact(torch.autograd.Function):
    """First-order LIF sequence that saves only the bf16 surrogate factor and returns only spikes."""

    @staticmethod
    def forward(ctx, cur_seq, T: int, constant: bool, spec, slope, beta, threshold, spike_dtype, grad_beta):
        spk_seq, factor = _scan_forward_compact(cur_seq, T, constant, beta, threshold, spike_dtype, spec, slope)
        ctx.save_for_backward(factor)
        ctx.beta, ctx.constant, ctx.in_dtype = grad_beta, constant, cur_seq.dtype
        return spk_seq

    @staticmethod
    def backward(ctx, grad_spk):
        if torch.is_grad_enabled():
            raise RuntimeError("second derivatives through a LIF layer need its exact state: run with precision fp32")
        (factor,) = ctx.saved_tensors
        return _scan_backward_chunked(grad_spk, factor, ctx.beta, ctx.constant, ctx.in_dtype), *(None,) * 8


def _scan_backward_chunked(
    grad_spk: torch.Tensor, factor: torch.Tensor, beta: float, constant: bool, out_dtype: torch.dtype, chunk: int = 8
) -> torch.Tensor:
    """:func:`_scan_backward` a few steps at a time, from the last step back.

    Only ``chunk`` steps are ever held in fp32, and the result is written straight into the
    caller's dtype, so the backward of a wide layer needs no [T, ...] fp32 temporary.
    """
    T = factor.shape[0]
    out = None if constant else torch.empty(factor.shape, dtype=out_dtype, device=factor.device)
    total = carry = None
    for end in range(T, 0, -chunk):
        start = max(0, end - chunk)
        g = factor[start:end].float().mul_(grad_spk[start:end])
        if carry is not None:
            g[-1].add_(carry, alpha=beta)
        for t in range(g.shape[0] - 2, -1, -1):
            g[t].add_(g[t + 1], alpha=beta)
        carry = g[0]
        if constant:
            total = g.sum(0) if total is None else total.add_(g.sum(0))
        else:
            out[start:end].copy_(g)
    return total.to(out_dtype) if constant else out


def _scan_backward(
    grad_spk: torch.Tensor | None,
    grad_mem: torch.Tensor | None,
    factor: torch.Tensor,
    beta: float,
    constant: bool,
) -> torch.Tensor:
    """First-order gradient w.r.t. the input current, in place in one fresh buffer.

    ``factor`` is a fresh fp32 tensor holding the surrogate derivative ``H'(U_t - theta)``; it is
    overwritten. Reverse recurrence: ``G_t = dL/dS_t * factor_t + dL/dU_t + beta * G_{t+1}``.
    """
    if grad_spk is not None:
        g = factor.mul_(grad_spk)
        if grad_mem is not None:
            g.add_(grad_mem)
    elif grad_mem is not None:
        g = grad_mem.to(factor.dtype, copy=True)
    else:
        g = factor.zero_()
    for t in range(g.shape[0] - 2, -1, -1):
        g[t].add_(g[t + 1], alpha=beta)
    return g.sum(0) if constant else g


def _scan_backward_traced(grad_spk, grad_mem, mem_seq, spec: Surrogate, slope, beta, threshold, constant):
    """The same gradient out of place, so autograd can differentiate it (Hessian-vector products)."""
    acc = torch.zeros_like(mem_seq)
    if grad_spk is not None:
        acc = acc + grad_spk * spec.grad(mem_seq - threshold, slope)
    if grad_mem is not None:
        acc = acc + grad_mem
    rows = [acc[-1]]
    for t in range(acc.shape[0] - 2, -1, -1):
        rows.append(acc[t] + beta * rows[-1])
    g = torch.stack(rows[::-1])
    return g.sum(0) if constant else g


class _LIFSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cur_seq, T: int, constant: bool, spec, slope, beta, threshold, spike_dtype, grad_beta):
        ctx.set_materialize_grads(False)  # an unused mem_seq then costs no zero tensor in backward
        # The state is kept in at least fp32 even when the currents come from a bf16 matmul.
        state_dtype = torch.promote_types(cur_seq.dtype, torch.float32)
        mem_seq, spk_seq = _scan_forward(cur_seq.to(state_dtype), T, constant, beta, threshold)
        if spike_dtype is not None and spike_dtype != state_dtype:
            spk_seq = spk_seq.to(spike_dtype)
        ctx.save_for_backward(mem_seq)
        ctx.params = (spec, slope, grad_beta, threshold)  # backward's leak: 0 without STBP
        ctx.constant = constant
        ctx.in_dtype = cur_seq.dtype
        return spk_seq, mem_seq

    @staticmethod
    def backward(ctx, grad_spk, grad_mem):
        (saved,) = ctx.saved_tensors
        spec, slope, beta, threshold = ctx.params
        if torch.is_grad_enabled():  # create_graph=True: a second derivative will be taken
            g = _scan_backward_traced(grad_spk, grad_mem, saved, spec, slope, beta, threshold, ctx.constant)
        else:
            g = _scan_backward(grad_spk, grad_mem, spec.grad_(saved - threshold, slope), beta, ctx.constant)
        return g.to(ctx.in_dtype), None, None, None, None, None, None, None, None


def lif_sequence(
    cur_seq: torch.Tensor,
    params: LIFParams,
    T: int | None = None,
    spike_dtype: torch.dtype | None = None,
    compact: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run a LIF population over a whole sequence with a fused forward and backward.

    Args:
        cur_seq: input current, ``[T, B, ...]``; or ``[B, ...]`` with ``T`` given, meaning the
            same current at every step (constant-current encoding: the layer feeding it is
            computed once instead of T times).
        params: neuron parameters.
        T: number of steps when ``cur_seq`` is constant over time.
        spike_dtype: dtype of the emitted spikes (0 and 1 are exact in bfloat16, so a bf16
            layer downstream reads them without a cast); default: the state's dtype.
        compact: keep two membrane rows instead of the whole sequence and save only the
            surrogate derivative, in bfloat16, for backward: no [T, ...] fp32 tensor is
            allocated. The membrane is then not returned (``None``), gradients carry bf16
            rounding in the surrogate factor, and second derivatives are refused. The default
            saves the exact membrane and supports double backward.

    Returns:
        ``(spk_seq, mem_seq)``, ``[T, B, ...]``, starting from rest; ``mem_seq`` in at least float32
        (``None`` when ``compact``).
    """
    constant = T is not None
    steps = T if constant else cur_seq.shape[0]
    spec, slope = _surrogate(params)
    args = (cur_seq, steps, constant, spec, slope, float(params.beta), float(params.threshold))
    grad_beta = float(params.beta) if params.through_time else 0.0
    if compact:
        return _LIFSequenceCompact.apply(*args, spike_dtype or torch.float32, grad_beta), None
    return _LIFSequence.apply(*args, spike_dtype, grad_beta)


def lif_loop(
    cur_seq: torch.Tensor, params: LIFParams, T: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same contract as :func:`lif_sequence`, stepped with :func:`lif_step` (the reference path)."""
    steps = T if T is not None else cur_seq.shape[0]
    state, spikes, mems = None, [], []
    for t in range(steps):
        spk, state = lif_step(cur_seq if T is not None else cur_seq[t], state, params)
        spikes.append(spk)
        mems.append(state.mem)
    return torch.stack(spikes), torch.stack(mems)
