"""Layers shared by the spiking models."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..neurons import events as event_kernels


class _SpikeLinear(torch.autograd.Function):
    """``F.linear`` for a binary input that saves the input as bool (1 byte instead of 2 or 4).

    The weight gradient needs the input; spikes are 0/1, so storing them as bool is exact.
    Spikes may come in a narrower dtype than the weight (bf16 spikes into an fp32 readout):
    they are widened a block of rows at a time, never as a whole. First order only.
    """

    ROWS = 4096  # rows widened at a time

    @staticmethod
    def forward(ctx, spikes: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(spikes.to(torch.bool), weight)
        ctx.spike_dtype = spikes.dtype
        if spikes.dtype == weight.dtype:
            return F.linear(spikes, weight, bias)
        flat = spikes.reshape(-1, spikes.shape[-1])
        out = torch.empty(flat.shape[0], weight.shape[0], dtype=weight.dtype, device=weight.device)
        for i in range(0, flat.shape[0], _SpikeLinear.ROWS):
            out[i : i + _SpikeLinear.ROWS] = F.linear(flat[i : i + _SpikeLinear.ROWS].to(weight.dtype), weight, bias)
        return out.reshape(*spikes.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        packed, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        flat = grad.reshape(-1, grad.shape[-1])
        if ctx.needs_input_grad[0]:
            grad_x = _input_grad(flat, weight, ctx.spike_dtype).reshape(*grad.shape[:-1], weight.shape[1])
        if ctx.needs_input_grad[1]:
            rows = packed.reshape(-1, packed.shape[-1])
            if grad.dtype == torch.float32:  # fp32 block products summed in fp32: no [R, in] fp32 copy
                grad_w = torch.zeros_like(weight, dtype=torch.float32)
                for i in range(0, rows.shape[0], _SpikeLinear.ROWS):
                    grad_w.addmm_(flat[i : i + _SpikeLinear.ROWS].t(), rows[i : i + _SpikeLinear.ROWS].float())
            else:  # one product: the kernel accumulates all rows in fp32 and rounds once
                grad_w = flat.t() @ rows.to(grad.dtype)
            grad_w = grad_w.to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_b = flat.sum(0, dtype=torch.float32).to(weight.dtype)
        return grad_x, grad_w, grad_b


def _input_grad(flat_grad: torch.Tensor, weight: torch.Tensor, out_dtype: torch.dtype) -> torch.Tensor:
    """``flat_grad @ weight`` in ``out_dtype``; when that is narrower than the product, a block of rows
    at a time, so no full-size temporary of the wider dtype is made."""
    weight = weight.to(flat_grad.dtype)
    if out_dtype == flat_grad.dtype:
        return flat_grad @ weight
    out = torch.empty(flat_grad.shape[0], weight.shape[1], dtype=out_dtype, device=flat_grad.device)
    for i in range(0, flat_grad.shape[0], _SpikeLinear.ROWS):
        out[i : i + _SpikeLinear.ROWS] = flat_grad[i : i + _SpikeLinear.ROWS] @ weight
    return out


class _EventLinear(torch.autograd.Function):
    """Event-driven ``F.linear`` for a spike input: only the inputs that fired are summed.

    Forward: every output row is the bias plus the weight columns of the inputs active in that row
    (no product with a zero). Weight gradient: every input sums the output-gradient rows of the
    steps it fired at. Both sum in fp32 in a fixed order; the result is rounded once to ``out_dtype``
    (the dense path's dtype), so the two paths agree to floating-point rounding. The input gradient
    stays a dense product (the output gradient is dense). Saves the spike lists, ``4 * events``
    bytes, instead of the spikes. First order only.
    """

    @staticmethod
    def forward(ctx, spikes, weight, bias, out_dtype):
        flat = spikes.reshape(-1, spikes.shape[-1])
        rowptr, idx = event_kernels.events(flat)
        w = weight.detach().to(out_dtype)
        out = event_kernels.events_matmul(rowptr, idx, w, bias, out_dtype)
        # the weight in the product's dtype: the input gradient's product reads it without a second cast
        ctx.save_for_backward(rowptr, idx, w)
        ctx.spike_shape, ctx.spike_dtype, ctx.bias_dtype = spikes.shape, spikes.dtype, bias.dtype
        ctx.weight_dtype = weight.dtype
        return out.reshape(*spikes.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            raise RuntimeError("second derivatives through an event-driven layer: run with precision fp32")
        rowptr, idx, weight = ctx.saved_tensors
        flat = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            if weight.shape[0] <= event_kernels.THIN_MAX and ctx.spike_dtype in (torch.float32, torch.bfloat16):
                # a narrow readout: the dense input gradient from the thin kernel (BLAS runs it at a few %)
                grad_x = event_kernels.thin_input_grad(flat, weight, ctx.spike_dtype)
            else:
                grad_x = _input_grad(flat, weight, ctx.spike_dtype)
            grad_x = grad_x.reshape(ctx.spike_shape)
        if ctx.needs_input_grad[1]:
            grad_w = event_kernels.events_weight_grad(rowptr, idx, ctx.spike_shape[-1], flat).to(ctx.weight_dtype)
        if ctx.needs_input_grad[2]:
            grad_b = flat.sum(0, dtype=torch.float32).to(ctx.bias_dtype)
        return grad_x, grad_w, grad_b, None


class _ThinLinear(torch.autograd.Function):
    """``F.linear`` for a binary input into at most ``THIN_MAX`` fp32 outputs (a readout), with the native
    thin-product kernels: the spikes are read in their own dtype (bf16 spikes need no fp32 copy) and
    the input gradient is written in it. First order only."""

    @staticmethod
    def forward(ctx, spikes, weight, bias):
        flat = spikes.reshape(-1, spikes.shape[-1])
        ctx.save_for_backward(flat, weight)
        ctx.spike_shape, ctx.spike_dtype = spikes.shape, spikes.dtype
        return event_kernels.thin_linear(flat, weight, bias).reshape(*spikes.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            raise RuntimeError("second derivatives through a thin readout: run with precision fp32")
        flat_x, weight = ctx.saved_tensors
        flat = grad.reshape(-1, grad.shape[-1]).float()
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = event_kernels.thin_input_grad(flat, weight, ctx.spike_dtype).reshape(ctx.spike_shape)
        if ctx.needs_input_grad[1]:
            grad_w = event_kernels.thin_weight_grad(flat, flat_x).to(weight.dtype)
        if ctx.needs_input_grad[2]:
            grad_b = flat.sum(0).to(weight.dtype)
        return grad_x, grad_w, grad_b


INITS = ("seed", "torch")


class MaskedLinear(nn.Module):
    """A linear layer with an optional fixed connectivity mask and a low-precision product.

    ``y = x (W * M)^T + b``. The mask ``M`` is a buffer (saved in checkpoints, moved with the
    model, never trained); the G2G groups it was drawn from, when given, are kept beside it as
    non-persistent buffers (they follow from the model's seed and are only read for reporting).

    Initialisation (``init``), identical for a dense layer:

    * ``"seed"`` (the G2G seed's sparse layers): ``nn.Linear``'s Kaiming-uniform draw, then every
      row's *active* weights scaled by ``sqrt(in / fan_in_active)`` so a unit's input variance does
      not shrink with the density; the bias uniform in ``+-1/sqrt(mean active fan-in)``. Masked
      weights keep their draw (they are multiplied out; dynamic sparse training may revive them).
    * ``"torch"``: ``nn.Linear``'s init as if dense (bias bound ``1/sqrt(in)``), masked weights zeroed.

    Args:
        in_features: inputs per sample.
        out_features: outputs per sample.
        mask: ``[out, in]`` 0/1 tensor, or ``None`` for dense.
        init: ``"seed"`` or ``"torch"``.
        groups: the ``(input-side, output-side)`` group ids the mask was drawn from.
    """

    def __init__(
        self, in_features: int, out_features: int, mask: torch.Tensor | None = None, init: str = "seed",
        groups: tuple[torch.Tensor, torch.Tensor] | None = None,
    ):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        if mask is not None and mask.shape != (out_features, in_features):
            raise ValueError(f"mask shape {tuple(mask.shape)} != ({out_features}, {in_features})")
        self.register_buffer("mask", mask)
        #: How the last forward pass computed the product: "dense" (BLAS), "events" or "thin".
        self.last_product = "dense"
        pre, post = groups if groups is not None else (None, None)
        self.register_buffer("pre_groups", pre, persistent=False)
        self.register_buffer("post_groups", post, persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.mask is None:
            bound = 1.0 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)
            return
        with torch.no_grad():
            if self.init == "torch":
                nn.init.uniform_(self.bias, -1.0 / math.sqrt(self.in_features), 1.0 / math.sqrt(self.in_features))
                self.weight.mul_(self.mask)
                return
            fan_in = self.mask.sum(1)
            scale = torch.where((fan_in > 0) & (fan_in < self.in_features), (self.in_features / fan_in.clamp(min=1)).sqrt(), 1.0)
            self.weight.mul_(torch.where(self.mask.bool(), scale[:, None], 1.0))
            mean_fan_in = float(fan_in.mean()) if float(fan_in.mean()) > 0 else float(self.in_features)
            nn.init.uniform_(self.bias, -1.0 / math.sqrt(mean_fan_in), 1.0 / math.sqrt(mean_fan_in))

    def effective_weight(self) -> torch.Tensor:
        return self.weight if self.mask is None else self.weight * self.mask

    def forward(
        self, x: torch.Tensor, dtype: torch.dtype | None = None, binary: bool = False, events: bool = False
    ) -> torch.Tensor:
        """Apply the layer over any leading dims (``[T, B, in]`` is one matmul over T*B rows).

        Args:
            x: input ``[..., in]``.
            dtype: compute the product in this dtype (bfloat16 is used only for binary spike
                inputs, which it represents exactly; accumulation is fp32 inside the kernel).
            binary: ``x`` holds only 0 and 1; it is then saved for backward as bool.
            events: ``x`` is binary and sparse: sum only the weights of the inputs that fired
                (event-driven forward and weight gradient, fp32 sums, result in ``dtype``); CPU with
                the native kernels only, else the dense product runs.
        """
        w, b = self.effective_weight(), self.bias
        if events and binary and event_kernels.available(x):
            self.last_product = "events"
            return _EventLinear.apply(x, w, b, dtype or w.dtype)
        if binary and self.out_features <= event_kernels.THIN_MAX and dtype is None and event_kernels.available(x):
            self.last_product = "thin"
            return _ThinLinear.apply(x, w, b)
        self.last_product = "dense"
        if dtype is not None and dtype != w.dtype:
            x, w, b = x.to(dtype), w.to(dtype), b.to(dtype)
        if binary and (torch.is_grad_enabled() or x.dtype != w.dtype):
            return _SpikeLinear.apply(x, w, b)
        return F.linear(x, w, b)

    def connections(self) -> int:
        """Number of weights that exist (mask ones), excluding biases."""
        return self.weight.numel() if self.mask is None else int(self.mask.sum().item())

    def extra_repr(self) -> str:
        kept = self.connections() / self.weight.numel()
        return f"in={self.in_features}, out={self.out_features}, density={kept:.3f}"
