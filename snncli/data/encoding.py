"""Spike encoders: static images to input sequences ``[T, B, ...]``.

Two codings, with ``u = x * scale + bias``:

- ``"current"`` (direct input): the same analogue input at every step,
  ``I[t] = u`` for ``t = 0 .. T-1``. The first layer's neurons do the spiking.
- ``"rate"`` (Poisson-like): independent Bernoulli spikes per step,
  ``s[t] ~ Bernoulli(p)`` with ``p = clamp(u, 0, 1)``, so ``E[s[t]] = p``.

Rate coding is not differentiable; its backward pass is the straight-through
estimator ``ds/dp = 1`` (inside the clamp), so gradient-based attacks and input
analyses can still differentiate through it.
"""

from __future__ import annotations

import torch

ENCODINGS = ("current", "rate")


class _BernoulliStraightThrough(torch.autograd.Function):
    """Spikes ``noise < p`` forward; the incoming gradient passed to ``p`` unchanged backward."""

    @staticmethod
    def forward(ctx, p_seq: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: ANN001 - autograd ctx
        return (noise < p_seq).to(p_seq.dtype)

    @staticmethod
    def backward(ctx, grad_seq: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001 - autograd ctx
        return grad_seq, None


def encode(
    x: torch.Tensor,
    T: int,
    kind: str = "current",
    scale: float = 1.0,
    bias: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Turns a batch of static inputs into a sequence over ``T`` time steps.

    Args:
        x: Inputs, usually images in ``[0, 1]``.
        T: Number of time steps, at least 1.
        kind: One of :data:`ENCODINGS`.
        scale: Gain applied before coding (input current per unit intensity, or spike
            probability per unit intensity).
        bias: Offset added after ``scale``.
        generator: Random source for ``"rate"``; must live on ``x``'s device.

    Returns:
        ``"current"``: ``x * scale + bias`` expanded along a new leading time axis; a
        view, so all steps share memory (do not write to it in place).
        ``"rate"``: spikes in ``{0, 1}``, in ``x``'s dtype if floating, else ``float32``.

    Shape:
        - x: ``[B, ...]``
        - output: ``[T, B, ...]``
    """
    if kind not in ENCODINGS:
        raise ValueError(f"unknown encoding '{kind}'; allowed: {', '.join(ENCODINGS)}")
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    if not x.is_floating_point():
        x = x.to(torch.float32)
    u = x if scale == 1.0 and bias == 0.0 else x * scale + bias
    if kind == "current":
        return u.unsqueeze(0).expand(T, *u.shape)
    p_seq = u.clamp(0.0, 1.0).unsqueeze(0).expand(T, *u.shape)
    noise = torch.rand(p_seq.shape, generator=generator, device=x.device, dtype=x.dtype)
    return _BernoulliStraightThrough.apply(p_seq, noise)
