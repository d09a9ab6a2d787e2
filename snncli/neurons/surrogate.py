"""Surrogate gradients for the spike non-linearity.

Built in three layers, as SpikingJelly does: a pure formula for the derivative
(``*_grad``), one ``autograd.Function`` that applies the Heaviside step forward and
any formula backward, and :func:`spike` as the small public entry point.

Every formula is written with differentiable torch ops on the saved input, so the
surrogate is twice differentiable: Hessian-vector products (``snn hessian``) see the
derivative of the surrogate, not zero.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch

from ..registry import Registry

GradFormula = Callable[[torch.Tensor, float], torch.Tensor]


def fast_sigmoid_grad(x: torch.Tensor, slope: float) -> torch.Tensor:
    r"""Derivative of the fast sigmoid :math:`x / (1 + k|x|)`: :math:`1 / (k|x| + 1)^2`.

    Same formula as ``snntorch.surrogate.fast_sigmoid(slope=k)`` (Zenke & Ganguli, 2018).
    """
    return (slope * x.abs() + 1.0).pow(-2)


def fast_sigmoid_grad_(x: torch.Tensor, slope: float) -> torch.Tensor:
    """In-place :func:`fast_sigmoid_grad`: overwrites ``x`` (the training hot path, no temporaries)."""
    return x.abs_().mul_(slope).add_(1.0).reciprocal_().square_()


def atan_grad(x: torch.Tensor, slope: float) -> torch.Tensor:
    r"""Derivative of :math:`\frac{1}{\pi}\arctan(\frac{\pi}{2}\alpha x)`: :math:`\frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha x)^2}`.

    ``slope`` plays the role of snnTorch's ``alpha`` (snnTorch's default surrogate, alpha=2).
    """
    return (slope / 2.0) / (1.0 + (math.pi / 2.0 * slope * x).pow(2))


def atan_grad_(x: torch.Tensor, slope: float) -> torch.Tensor:
    """In-place :func:`atan_grad`."""
    return x.mul_(math.pi / 2.0 * slope).square_().add_(1.0).reciprocal_().mul_(slope / 2.0)


def sigmoid_grad(x: torch.Tensor, slope: float) -> torch.Tensor:
    r"""Derivative of :math:`\sigma(kx)`: :math:`k\,\sigma(kx)(1-\sigma(kx))` (snnTorch's ``sigmoid``)."""
    s = torch.sigmoid(slope * x)
    return slope * s * (1.0 - s)


def sigmoid_grad_(x: torch.Tensor, slope: float) -> torch.Tensor:
    """In-place :func:`sigmoid_grad`."""
    s = x.mul_(slope).sigmoid_()
    return s.mul_(1.0 - s).mul_(slope)


class Surrogate(NamedTuple):
    """A registered surrogate.

    Attributes:
        grad: derivative formula, out of place and twice differentiable.
        grad_: the same formula computed in place (overwrites its input), for first-order backward.
        default_slope: the steepness snnTorch uses by default.
    """

    grad: GradFormula
    grad_: GradFormula
    default_slope: float


SURROGATES: Registry[Surrogate] = Registry("surrogate", {
    "fast_sigmoid": Surrogate(fast_sigmoid_grad, fast_sigmoid_grad_, 25.0),
    "atan": Surrogate(atan_grad, atan_grad_, 2.0),
    "sigmoid": Surrogate(sigmoid_grad, sigmoid_grad_, 25.0),
})


def get_surrogate(name: str) -> Surrogate:
    """Look up a registered surrogate; an unknown name is an ``UnknownNameError`` (``ValueError``) listing the choices."""
    return SURROGATES[name]


def surrogate_grad(name: str) -> GradFormula:
    """Look up a surrogate's derivative formula by name."""
    return get_surrogate(name).grad


class _Heaviside(torch.autograd.Function):
    """H(x) = 1[x > 0] forward; ``formula(x, slope)`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, formula: GradFormula, slope: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.formula, ctx.slope = formula, slope
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * ctx.formula(x, ctx.slope), None, None


def spike(x: torch.Tensor, surrogate: str = "fast_sigmoid", slope: float | None = None) -> torch.Tensor:
    """Heaviside step with a surrogate derivative.

    Args:
        x: membrane potential minus threshold.
        surrogate: a name in :data:`SURROGATES`.
        slope: steepness; ``None`` takes the surrogate's snnTorch default.

    Returns:
        Spikes (0 or 1) with ``x``'s dtype and shape.
    """
    spec = get_surrogate(surrogate)
    return _Heaviside.apply(x, spec.grad, spec.default_slope if slope is None else slope)
