"""Layers shared by the spiking models."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MaskedLinear(nn.Module):
    """A linear layer with an optional fixed connectivity mask and a low-precision product.

    ``y = x (W * M)^T + b``. The mask ``M`` is a buffer (saved in checkpoints, moved with the
    model, never trained); masked weights are zeroed at construction so they hold no value.

    Args:
        in_features: inputs per sample.
        out_features: outputs per sample.
        mask: ``[out, in]`` 0/1 tensor, or ``None`` for dense.
    """

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor | None = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        if mask is not None and mask.shape != (out_features, in_features):
            raise ValueError(f"mask shape {tuple(mask.shape)} != ({out_features}, {in_features})")
        self.register_buffer("mask", mask)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Linear's default init, so the dense baseline starts where a plain snnTorch model would.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.bias, -bound, bound)
        if self.mask is not None:
            with torch.no_grad():
                self.weight.mul_(self.mask)

    def effective_weight(self) -> torch.Tensor:
        return self.weight if self.mask is None else self.weight * self.mask

    def forward(self, x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Apply the layer over any leading dims (``[T, B, in]`` is one matmul over T*B rows).

        Args:
            x: input ``[..., in]``.
            dtype: compute the product in this dtype (bfloat16 is used only for binary spike
                inputs, which it represents exactly; accumulation is fp32 inside the kernel).
        """
        w = self.effective_weight()
        if dtype is not None and dtype != w.dtype:
            return F.linear(x.to(dtype), w.to(dtype), self.bias.to(dtype))
        return F.linear(x, w, self.bias)

    def connections(self) -> int:
        """Number of weights that exist (mask ones), excluding biases."""
        return self.weight.numel() if self.mask is None else int(self.mask.sum().item())

    def extra_repr(self) -> str:
        kept = self.connections() / self.weight.numel()
        return f"in={self.in_features}, out={self.out_features}, density={kept:.3f}"
