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

from typing import NamedTuple

import torch

from ..registry import Registry

#: The encoders, ``(u [B, ...], T, generator) -> [T, B, ...]`` with ``u = x * scale + bias``.
ENCODERS: Registry = Registry("encoding")


class _BernoulliStraightThrough(torch.autograd.Function):
    """Spikes ``noise < p`` forward; the incoming gradient passed to ``p`` unchanged backward."""

    @staticmethod
    def forward(ctx, p_seq: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:  # noqa: ANN001 - autograd ctx
        return (noise < p_seq).to(p_seq.dtype)

    @staticmethod
    def backward(ctx, grad_seq: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: ANN001 - autograd ctx
        return grad_seq, None


@ENCODERS.register("current")
def _current(u: torch.Tensor, T: int, generator: torch.Generator | None) -> torch.Tensor:
    return u.unsqueeze(0).expand(T, *u.shape)


@ENCODERS.register("rate")
def _rate(u: torch.Tensor, T: int, generator: torch.Generator | None) -> torch.Tensor:
    p_seq = u.clamp(0.0, 1.0).unsqueeze(0).expand(T, *u.shape)
    noise = torch.rand(p_seq.shape, generator=generator, device=u.device, dtype=u.dtype)
    return _BernoulliStraightThrough.apply(p_seq, noise)


#: The encoding names, in registration order.
ENCODINGS = tuple(ENCODERS)


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
    encoder = ENCODERS[kind]
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    if not x.is_floating_point():
        x = x.to(torch.float32)
    u = x if scale == 1.0 and bias == 0.0 else x * scale + bias
    return encoder(u, T, generator)


class Encoding(NamedTuple):
    """How a run turns images into input sequences: ``T`` steps of ``kind`` coding of ``x * scale + bias``.

    One value carried from the config (``TrainConfig.encoding``) to training, evaluation and the
    classifier adapter, so that they cannot drift apart.
    """

    T: int
    kind: str = "current"
    scale: float = 1.0
    bias: float = 0.0

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """:func:`encode` ``x`` ``[B, ...]`` into ``[T, B, ...]``."""
        return encode(x, self.T, self.kind, self.scale, self.bias, generator=generator)
