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

Both fused paths run as one pass over time per block of neurons where they can: C kernels on
CPU (``_kernels.c`` via ``_native``, built on first use), Triton kernels on CUDA (``_triton``);
elsewhere (no compiler, other devices, float64) as the PyTorch loops below, with the same results
up to floating-point rounding.

``beta`` and ``threshold`` may be tensors (learnable, one per layer or per neuron): both paths
and :func:`lif_step` return their gradients, ``dL/dbeta = sum_t G_t U_{t-1}`` and
``dL/dtheta = -sum_t dL/dS_t H'(U_t - theta) - sum_t G_t S_{t-1}``, with beta clamped to [0, 1]
where it is used, as snnTorch's ``Leaky(learn_beta=True, learn_threshold=True)``.
"""

from __future__ import annotations

from typing import NamedTuple, Union

import torch

from . import _native
from .surrogate import Surrogate, get_surrogate, spike


Coefficient = Union[float, torch.Tensor]


class LIFParams(NamedTuple):
    """Parameters of a LIF population.

    ``beta`` and ``threshold`` are numbers, or tensors (learnable parameters): one value for the
    layer (shape ``()``, snnTorch's ``Leaky(learn_beta=True, learn_threshold=True)``) or one per
    neuron (any shape that broadcasts against one step ``[B, ...]``, e.g. ``[N]``). Their
    gradients come out of the fused backward, reduced to their shape.

    Attributes:
        beta: membrane decay per time step, dimensionless (``exp(-dt / tau_mem)``); clamped to
            [0, 1] where it is used, as snnTorch does (the parameter itself is left as it is, and
            its gradient is zero outside the range).
        threshold: firing threshold, in the units of the input current. Keep it positive: the
            neurons start from rest (``U = 0``) with no reset at the first step.
        surrogate: name of the surrogate derivative (see ``snncli.neurons.surrogate``).
        slope: surrogate steepness; ``None`` takes the surrogate's default.
        through_time: backpropagate through the membrane's leak (STBP/BPTT); ``False`` detaches
            the previous membrane, leaving the gradient through space only.
    """

    beta: Coefficient = 0.9
    threshold: Coefficient = 1.0
    surrogate: str = "fast_sigmoid"
    slope: float | None = None
    through_time: bool = True


class LIFState(NamedTuple):
    """State carried between steps: membrane potential ``mem`` (same units as the threshold)."""

    mem: torch.Tensor


def _surrogate(params: LIFParams) -> tuple[Surrogate, float]:
    spec = get_surrogate(params.surrogate)
    return spec, spec.default_slope if params.slope is None else params.slope


def clamped_beta(beta: Coefficient) -> Coefficient:
    """``beta`` limited to [0, 1], differentiably for a tensor (snnTorch's ``beta.clamp(0, 1)``)."""
    if isinstance(beta, torch.Tensor):
        return beta.clamp(0.0, 1.0)
    return min(max(float(beta), 0.0), 1.0)


def lif_step(
    cur: torch.Tensor, state: LIFState | None, params: LIFParams
) -> tuple[torch.Tensor, LIFState]:
    """Advance one time step with plain autograd.

    Args:
        cur: input current ``I_t``, shape ``[B, ...]``.
        state: previous state, or ``None`` for rest (``U = 0``).
        params: neuron parameters (tensor ``beta``/``threshold`` receive gradients).

    Returns:
        ``(spikes, new_state)``; spikes have ``cur``'s shape and dtype.
    """
    threshold = params.threshold
    if state is None:
        mem = cur  # from rest: beta * 0 + I_0, and no reset
    else:
        reset = (state.mem > threshold).to(cur.dtype)  # detached, as in snnTorch
        prev = state.mem if params.through_time else state.mem.detach()
        mem = clamped_beta(params.beta) * prev + cur - threshold * reset
    spk = spike(mem - threshold, params.surrogate, params.slope)
    return spk, LIFState(mem)


# --- helpers for the fused scans: a coefficient is a Python float (one value: the fast `alpha=`
# form of the in-place ops) or a detached tensor (one value per neuron: the `addcmul` form).


def _plain(c: Coefficient) -> Coefficient:
    if isinstance(c, torch.Tensor):
        return float(c) if c.numel() == 1 else c.detach()
    return float(c)


def _axpy_(out: torch.Tensor, x: torch.Tensor, a: Coefficient) -> torch.Tensor:
    """``out += a * x`` in place."""
    return out.add_(x, alpha=a) if isinstance(a, float) else out.addcmul_(x, a)


def _leak(cur_t: torch.Tensor, prev: torch.Tensor, beta: Coefficient, out: torch.Tensor) -> torch.Tensor:
    """``out = cur_t + beta * prev``."""
    if isinstance(beta, float):
        return torch.add(cur_t, prev, alpha=beta, out=out)
    return torch.addcmul(cur_t, prev, beta, out=out)


def _sum_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` summed down to ``like``'s shape (the gradient of a broadcast parameter)."""
    return x.sum().reshape(like.shape) if like.numel() == 1 else x.sum_to_size(like.shape)


def _dot_to(a: torch.Tensor, b: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``(a * b)`` summed down to ``like``'s shape; one fused dot product for a scalar parameter."""
    if like.numel() == 1 and a.is_contiguous() and b.is_contiguous() and a.dtype == b.dtype:
        return torch.dot(a.reshape(-1), b.reshape(-1)).reshape(like.shape)
    return _sum_to(a * b, like)


class _ParamGrads:
    r"""Accumulates the gradients of beta and threshold over backward chunks.

    With ``G_t = dL/dU_t`` (total, after the reverse recurrence), ``S_t`` the spikes and
    ``H'_t`` the surrogate factor:

    .. math::

        \partial L/\partial\beta = \sum_{t\ge1} G_t U_{t-1}, \qquad
        \partial L/\partial\vartheta = -\sum_t \frac{\partial L}{\partial S_t} H'_t - \sum_{t\ge1} G_t S_{t-1}

    (the first threshold term is the spike's ``H(U - theta)``, the second the reset by subtraction,
    whose spike factor is detached as in snnTorch).
    """

    def __init__(self, beta: torch.Tensor | None, threshold: torch.Tensor | None):
        self.beta, self.threshold = beta, threshold
        self.d_beta = self.d_threshold = None

    def _add(self, name: str, value: torch.Tensor) -> None:
        old = getattr(self, name)
        setattr(self, name, value if old is None else old + value)

    def spike_term(self, local: torch.Tensor) -> None:
        """``local = dL/dS_t * H'_t`` for some steps, before the recurrence."""
        if self.threshold is not None:
            self._add("d_threshold", -_sum_to(local, self.threshold))

    def leak_terms(self, g: torch.Tensor, mem_prev: torch.Tensor | None, spk_prev: torch.Tensor | None) -> None:
        """``g`` = G over some steps t, ``mem_prev``/``spk_prev`` = U and S at the steps t - 1."""
        if g.shape[0] == 0:
            return
        if self.beta is not None:
            self._add("d_beta", _dot_to(g, mem_prev.to(g.dtype), self.beta))
        if self.threshold is not None:
            self._add("d_threshold", -_dot_to(g, spk_prev.to(g.dtype), self.threshold))

    def result(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        out = []
        for param, grad in ((self.beta, self.d_beta), (self.threshold, self.d_threshold)):
            if param is None:
                out.append(None)
            else:
                out.append(torch.zeros_like(param) if grad is None else grad.to(param.dtype))
        return out[0], out[1]


def _scan_forward(
    cur_seq: torch.Tensor, T: int, constant: bool, beta: Coefficient, threshold: Coefficient
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
        out = _leak(cur_seq if constant else cur_seq[t], mem_seq[t - 1], beta, mem_seq[t])
        _axpy_(out, spk_seq[t - 1], -threshold)  # reset by subtraction of the previous step's spikes
        torch.sub(out, threshold, out=spk_seq[t]).sign_().clamp_(min=0)
    return mem_seq, spk_seq


def _scan_forward_compact(
    cur_seq: torch.Tensor, T: int, constant: bool, beta: Coefficient, threshold: Coefficient,
    spike_dtype: torch.dtype, spec: Surrogate, slope: float, keep_mem: bool = False, keep_spikes: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Spikes [T, ...] in ``spike_dtype`` and the surrogate factor H'(U - theta) [T, ...] in bf16.

    Keeps only two membrane rows: nothing of size [T, ...] in fp32 is ever allocated, which is
    what bounds training memory of wide layers. ``keep_mem`` also returns the membrane in bf16
    and ``keep_spikes`` the spikes as bool (what the gradients of beta and threshold need).
    """
    row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
    dev = cur_seq.device
    spk_seq = torch.empty((T, *row_shape), dtype=spike_dtype, device=dev)
    factor = torch.empty((T, *row_shape), dtype=torch.bfloat16, device=dev)
    mem_keep = torch.empty_like(factor) if keep_mem else None
    spk_keep = torch.empty((T, *row_shape), dtype=torch.bool, device=dev) if keep_spikes else None
    mem, prev = (torch.empty(row_shape, dtype=torch.float32, device=dev) for _ in range(2))
    shifted, spk = (torch.empty_like(mem) for _ in range(2))
    for t in range(T):
        cur_t = cur_seq if constant else cur_seq[t]
        if t == 0:
            mem.copy_(cur_t)
        else:
            _leak(cur_t, prev, beta, mem)
            _axpy_(mem, spk, -threshold)
        if keep_mem:
            mem_keep[t].copy_(mem)
        torch.sub(mem, threshold, out=shifted)
        torch.sign(shifted, out=spk).clamp_(min=0)
        spk_seq[t].copy_(spk)
        if keep_spikes:
            spk_keep[t].copy_(spk)
        factor[t].copy_(spec.grad_(shifted, slope))
        mem, prev = prev, mem
    return spk_seq, factor, mem_keep, spk_keep


def _tensor_or_none(c: Coefficient) -> torch.Tensor | None:
    return c if isinstance(c, torch.Tensor) else None


#: Use the fused one-pass scans where they apply: C on CPU (``_native``), Triton on CUDA
#: (``_triton``); tests switch this off to compare with the PyTorch loops.
NATIVE = True
#: Tests set this to ``"triton"`` to run the Triton kernels on CPU tensors under TRITON_INTERPRET=1.
BACKEND_OVERRIDE: str | None = None
_triton_module = None


def _triton():
    """The Triton kernels module, or ``None`` where Triton cannot be imported."""
    global _triton_module
    if _triton_module is None:
        try:
            from . import _triton as module
        except ImportError:
            module = False
        _triton_module = module
    return _triton_module or None


def _scan_backend(cur_seq: torch.Tensor, row_shape, surrogate: str, *coefs):
    """The fused-scan module for this input (``_native`` or ``_triton``), or ``None``: PyTorch loops."""
    if not NATIVE or surrogate not in _native.SURROGATE_IDS or not _native.layout_ok(cur_seq, row_shape, *coefs):
        return None
    if BACKEND_OVERRIDE == "triton" or cur_seq.device.type == "cuda":
        return _triton()
    if cur_seq.device.type == "cpu" and _native.library() is not None:
        return _native
    return None


class _LIFSequenceCompact(torch.autograd.Function):
    """First-order LIF sequence that saves only the bf16 surrogate factor and returns only spikes."""

    @staticmethod
    def forward(ctx, cur_seq, beta, threshold, T: int, constant: bool, surrogate, slope, spike_dtype, through_time):
        need_beta, need_threshold = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
        backend = _scan_backend(cur_seq, row_shape, surrogate, beta, threshold)
        ctx.backend = backend if spike_dtype in _native.DTYPES else None
        if ctx.backend is not None:
            spk_seq, _, factor, mem_keep, spk_keep = ctx.backend.scan_forward(
                cur_seq, T, constant, beta, threshold, spike_dtype=spike_dtype, exact=False,
                surrogate=_native.surrogate_constants(surrogate, slope), keep_mem=need_beta, keep_spikes=need_threshold,
            )
        else:
            spk_seq, factor, mem_keep, spk_keep = _scan_forward_compact(
                cur_seq, T, constant, _plain(beta), _plain(threshold), spike_dtype, get_surrogate(surrogate), slope,
                keep_mem=need_beta, keep_spikes=need_threshold,
            )
        ctx.save_for_backward(factor, mem_keep, spk_keep, _tensor_or_none(beta), _tensor_or_none(threshold))
        ctx.coefs = (beta, threshold)
        ctx.surrogate = (surrogate, slope)
        ctx.through_time, ctx.constant, ctx.in_dtype = through_time, constant, cur_seq.dtype
        ctx.row_shape = row_shape
        return spk_seq

    @staticmethod
    def backward(ctx, grad_spk):
        if torch.is_grad_enabled():
            raise RuntimeError("second derivatives through a LIF layer need its exact state: run with precision fp32")
        factor, mem_keep, spk_keep, beta_t, threshold_t = ctx.saved_tensors
        beta = beta_t if beta_t is not None else ctx.coefs[0]
        leak = _plain(beta) if ctx.through_time else 0.0
        params = _ParamGrads(
            beta_t if ctx.needs_input_grad[1] else None, threshold_t if ctx.needs_input_grad[2] else None
        )
        if ctx.backend is not None:
            grad_cur, d_beta, d_threshold = ctx.backend.scan_backward(
                grad_spk, None, T=factor.shape[0], row_shape=ctx.row_shape, constant=ctx.constant,
                out_dtype=ctx.in_dtype, leak=beta if ctx.through_time else None, threshold=ctx.coefs[1],
                surrogate=_native.surrogate_constants(*ctx.surrogate), factor=factor, mem_keep=mem_keep,
                spk_keep=spk_keep, beta_like=params.beta, threshold_like=params.threshold,
            )
            return grad_cur, d_beta, d_threshold, *(None,) * 6
        grad_cur = _scan_backward_chunked(grad_spk, factor, leak, ctx.constant, ctx.in_dtype, params, mem_keep, spk_keep)
        return grad_cur, *params.result(), *(None,) * 6


def _scan_backward_chunked(
    grad_spk: torch.Tensor, factor: torch.Tensor, leak: Coefficient, constant: bool, out_dtype: torch.dtype,
    params: _ParamGrads, mem_keep: torch.Tensor | None = None, spk_keep: torch.Tensor | None = None,
    chunk: int = 8,
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
        params.spike_term(g)
        if carry is not None:
            _axpy_(g[-1], carry, leak)
        if not (isinstance(leak, float) and leak == 0.0):
            for t in range(g.shape[0] - 2, -1, -1):
                _axpy_(g[t], g[t + 1], leak)
        first = max(start, 1)  # the leak and reset terms start at t = 1
        params.leak_terms(
            g[first - start :],
            None if mem_keep is None else mem_keep[first - 1 : end - 1],
            None if spk_keep is None else spk_keep[first - 1 : end - 1],
        )
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
    leak: Coefficient,
    params: _ParamGrads,
) -> torch.Tensor:
    """First-order gradient w.r.t. the membrane at every step (G_t), in place in one fresh buffer.

    ``factor`` is a fresh fp32 tensor holding the surrogate derivative ``H'(U_t - theta)``; it is
    overwritten. Reverse recurrence: ``G_t = dL/dS_t * factor_t + dL/dU_t + beta * G_{t+1}``.
    """
    if grad_spk is not None:
        g = factor.mul_(grad_spk)
        params.spike_term(g)
        if grad_mem is not None:
            g.add_(grad_mem)
    elif grad_mem is not None:
        g = grad_mem.to(factor.dtype, copy=True)
    else:
        g = factor.zero_()
    if not (isinstance(leak, float) and leak == 0.0):
        for t in range(g.shape[0] - 2, -1, -1):
            _axpy_(g[t], g[t + 1], leak)
    return g


def _scan_backward_traced(grad_spk, grad_mem, mem_seq, spec: Surrogate, slope, beta, threshold, through_time, params):
    """The same gradients out of place, so autograd can differentiate them (Hessian-vector products)."""
    acc = torch.zeros_like(mem_seq)
    if grad_spk is not None:
        local = grad_spk * spec.grad(mem_seq - threshold, slope)
        if params.threshold is not None:
            params.d_threshold = -_sum_to(local, params.threshold)
        acc = acc + local
    if grad_mem is not None:
        acc = acc + grad_mem
    leak = beta if through_time else 0.0
    rows = [acc[-1]]
    for t in range(acc.shape[0] - 2, -1, -1):
        rows.append(acc[t] + leak * rows[-1])
    g = torch.stack(rows[::-1])
    if params.beta is not None:
        d = _sum_to(g[1:] * mem_seq[:-1], params.beta)
        params.d_beta = d if params.d_beta is None else params.d_beta + d
    if params.threshold is not None:
        d = -_sum_to(g[1:] * (mem_seq[:-1] > threshold).to(g.dtype), params.threshold)
        params.d_threshold = d if params.d_threshold is None else params.d_threshold + d
    return g


class _LIFSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cur_seq, beta, threshold, T: int, constant: bool, surrogate, slope, spike_dtype, through_time):
        ctx.set_materialize_grads(False)  # an unused mem_seq then costs no zero tensor in backward
        # The state is kept in at least fp32 even when the currents come from a bf16 matmul.
        state_dtype = torch.promote_types(cur_seq.dtype, torch.float32)
        row_shape = cur_seq.shape if constant else cur_seq.shape[1:]
        backend = _scan_backend(cur_seq, row_shape, surrogate, beta, threshold)
        ok = state_dtype == torch.float32 and (spike_dtype or state_dtype) in _native.DTYPES
        ctx.backend = backend if ok else None
        if ctx.backend is not None:
            spk_seq, mem_seq, *_ = ctx.backend.scan_forward(
                cur_seq, T, constant, beta, threshold, spike_dtype=spike_dtype or state_dtype, exact=True,
                surrogate=_native.surrogate_constants(surrogate, slope),
            )
        else:
            mem_seq, spk_seq = _scan_forward(cur_seq.to(state_dtype), T, constant, _plain(beta), _plain(threshold))
            if spike_dtype is not None and spike_dtype != state_dtype:
                spk_seq = spk_seq.to(spike_dtype)
        ctx.save_for_backward(mem_seq, _tensor_or_none(beta), _tensor_or_none(threshold))
        ctx.coefs = (beta, threshold)
        ctx.params = (surrogate, slope, through_time)
        ctx.constant = constant
        ctx.in_dtype = cur_seq.dtype
        ctx.row_shape = row_shape
        return spk_seq, mem_seq

    @staticmethod
    def backward(ctx, grad_spk, grad_mem):
        saved, beta_t, threshold_t = ctx.saved_tensors
        beta = beta_t if beta_t is not None else ctx.coefs[0]
        threshold = threshold_t if threshold_t is not None else ctx.coefs[1]
        surrogate, slope, through_time = ctx.params
        spec = get_surrogate(surrogate)
        params = _ParamGrads(
            beta_t if ctx.needs_input_grad[1] else None, threshold_t if ctx.needs_input_grad[2] else None
        )
        if ctx.backend is not None and not torch.is_grad_enabled():
            grad_cur, d_beta, d_threshold = ctx.backend.scan_backward(
                grad_spk, grad_mem, T=saved.shape[0], row_shape=ctx.row_shape, constant=ctx.constant,
                out_dtype=ctx.in_dtype, leak=beta if through_time else None, threshold=threshold,
                surrogate=_native.surrogate_constants(surrogate, slope), mem=saved,
                beta_like=params.beta, threshold_like=params.threshold,
            )
            return grad_cur, d_beta, d_threshold, *(None,) * 6
        if torch.is_grad_enabled():  # create_graph=True: a second derivative will be taken
            g = _scan_backward_traced(grad_spk, grad_mem, saved, spec, slope, beta, threshold, through_time, params)
        else:
            threshold_p = _plain(threshold)
            leak = _plain(beta) if through_time else 0.0
            g = _scan_backward(grad_spk, grad_mem, spec.grad_(saved - threshold_p, slope), leak, params)
            if params.beta is not None or params.threshold is not None:
                spk_prev = saved[:-1] > threshold_p if params.threshold is not None else None
                params.leak_terms(g[1:], saved[:-1], spk_prev)
        grad_cur = g.sum(0) if ctx.constant else g
        return grad_cur.to(ctx.in_dtype), *params.result(), *(None,) * 6


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
        params: neuron parameters; tensor ``beta``/``threshold`` get their gradients from the
            fused backward.
        T: number of steps when ``cur_seq`` is constant over time.
        spike_dtype: dtype of the emitted spikes (0 and 1 are exact in bfloat16, so a bf16
            layer downstream reads them without a cast); default: the state's dtype.
        compact: keep two membrane rows instead of the whole sequence and save only the
            surrogate derivative, in bfloat16, for backward: no [T, ...] fp32 tensor is
            allocated. The membrane is then not returned (``None``), gradients carry bf16
            rounding in the surrogate factor (and, for a learned beta, in the saved membrane),
            and second derivatives are refused. The default saves the exact membrane and
            supports double backward.

    Returns:
        ``(spk_seq, mem_seq)``, ``[T, B, ...]``, starting from rest; ``mem_seq`` in at least float32
        (``None`` when ``compact``).
    """
    constant = T is not None
    steps = T if constant else cur_seq.shape[0]
    _, slope = _surrogate(params)
    args = (cur_seq, clamped_beta(params.beta), params.threshold, steps, constant, params.surrogate, slope)
    if compact:
        return _LIFSequenceCompact.apply(*args, spike_dtype or torch.float32, params.through_time), None
    return _LIFSequence.apply(*args, spike_dtype, params.through_time)


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


class _Rate(torch.autograd.Function):
    """Mean of a 0/1 tensor from its spike count; the backward is a stride-0 expansion (no copy)."""

    @staticmethod
    def forward(ctx, spk_seq, count):
        ctx.shape, ctx.dtype = spk_seq.shape, spk_seq.dtype
        return torch.tensor(count / max(1, spk_seq.numel()), dtype=torch.float32, device=spk_seq.device)

    @staticmethod
    def backward(ctx, grad):
        n = max(1, torch.Size(ctx.shape).numel())
        return (grad / n).to(ctx.dtype).expand(ctx.shape), None


def spike_rate(spk_seq: torch.Tensor) -> torch.Tensor:
    """Firing rate (spikes per neuron per step) of a 0/1 sequence, as a differentiable fp32 scalar.

    Counts with the native kernel where it can (one multithreaded pass, no fp32 copy of the
    spikes); otherwise ``spk_seq.float().mean()``.
    """
    if spk_seq.device.type == "cpu" and spk_seq.is_contiguous() and spk_seq.dtype in _native.DTYPES and (
        NATIVE and _native.library() is not None
    ):
        return _Rate.apply(spk_seq, _native.count_nonzero(spk_seq))
    return spk_seq.float().mean()
