r"""Loss (and accuracy) surfaces around trained weights along one or two directions.

For weights :math:`\theta^*` and directions :math:`\delta, \eta` the surface is
:math:`f(a, b) = L(\theta^* + a\delta + b\eta)` on a grid of ``a, b`` in ``[-range, range]``
(Li et al., "Visualizing the loss landscape of neural nets", NeurIPS 2018).

Directions:

- ``random``: Gaussian, **filter-normalised**: every row of a weight matrix (one output
  neuron's incoming weights, one filter of a convolution) is rescaled to the norm of the same
  row of the weights, so ``a = 1`` moves each neuron by as much as its own weights, whatever
  the layer's scale. Biases (1-D parameters) get no direction (Li et al.'s ``ignore biasbn``).
  Weights a G2G mask removes get none either.
- ``hessian``: the top Hessian eigenvectors (curvature's principal axes), each rescaled to the
  norm of all weights, so ``a = 1`` is again a move as large as the weights.
- ``seed``: the PlasticFlex seed's plane (:func:`seed_plane`; its ``loss_landscapes.random_plane``
  with ``normalization="filter"``): uniform ``[0, 1)`` directions, biases and BatchNorm
  parameters included, the second orthogonalised against the first, filter-normalised, then
  each scaled to half the norm of all parameters, so ``a = 1`` is the edge of the seed's plane.

The point ``a = b = 0`` is the trained model: the grid always contains it exactly.

The seed's protocol (:data:`snncli.config.protocols.SEED_LANDSCAPE`): 101 x 101 points over ``[-1, 1]`` (the seed: 100 x
100, half a step off-centre), on the first training batch of the run's batch size in file order,
the figure smoothed by a Gaussian of one grid step and drawn as a 3-D surface and a 120-frame
rotating animation.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn as nn

from .evaluation import loss_and_accuracy

Vec = list[torch.Tensor]



def grid_coordinates(span: float, resolution: int) -> torch.Tensor:
    """``resolution`` (odd) evenly spaced values in ``[-span, span]`` with an exact 0 in the middle."""
    if resolution < 3 or resolution % 2 == 0:
        raise ValueError(f"resolution must be odd and at least 3 (so the grid holds the trained point), got {resolution}")
    coords = torch.linspace(-span, span, resolution, dtype=torch.float64)
    coords[resolution // 2] = 0.0
    return coords


def _masks(model: nn.Module) -> dict[int, torch.Tensor]:
    """id(weight) -> mask, for layers with a ``mask`` buffer the same shape as their weight."""
    found = {}
    for m in model.modules():
        mask, weight = getattr(m, "mask", None), getattr(m, "weight", None)
        if isinstance(mask, torch.Tensor) and isinstance(weight, torch.Tensor) and mask.shape == weight.shape:
            found[id(weight)] = mask
    return found


def random_direction(model: nn.Module, params: Sequence[nn.Parameter], generator: torch.Generator | None = None) -> Vec:
    """A filter-normalised Gaussian direction (Li et al., 2018): zero on biases and masked weights."""
    masks = _masks(model)
    out = []
    for p in params:
        if p.dim() <= 1:
            out.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device)
        w = p.detach()
        mask = masks.get(id(p))
        if mask is not None:
            d, w = d * mask, w * mask
        d_rows, w_rows = d.reshape(len(d), -1), w.reshape(len(w), -1)
        scale = w_rows.norm(dim=1, keepdim=True) / d_rows.norm(dim=1, keepdim=True).clamp(min=1e-12)
        out.append((d_rows * scale).reshape(p.shape))
    return out


def scaled_to_weights(direction: Vec, params: Sequence[nn.Parameter]) -> Vec:
    """``direction`` rescaled to the norm of all weights (used for Hessian eigenvectors)."""
    norm_w = torch.sqrt(sum((p.detach().float() ** 2).sum() for p in params))
    norm_d = torch.sqrt(sum((d.float() ** 2).sum() for d in direction)).clamp(min=1e-12)
    return [d * (norm_w / norm_d).to(d.dtype) for d in direction]


def loss_surface(
    model: nn.Module,
    batches,
    params: Sequence[nn.Parameter],
    directions: Sequence[Vec],
    coords: torch.Tensor,
    on_point: Callable[[int, int], None] | None = None,
    train_mode: bool = False,
) -> dict[str, torch.Tensor]:
    """Loss and accuracy at every grid point; the weights are restored exactly afterwards.

    Args:
        model: images -> logits, in eval mode.
        batches: re-iterable ``(x, y)`` batches (a :class:`~snncli.analysis.hessian.FixedBatches`
            for rate coding, so every point sees the same encoding).
        params: the parameters the directions move.
        directions: one (1-D surface) or two (2-D) directions shaped like ``params``.
        coords: grid values along each direction (:func:`grid_coordinates`).
        on_point: called with ``(done, total)`` after every point.
        train_mode: evaluate in training mode, as the seed's loss surface does (its models stay in
            the mode they were built in): BatchNorm uses each batch's statistics and dropout is
            drawn anew at every point. Running statistics, buffers and the mode are restored.

    Returns:
        ``{"coords", "loss", "accuracy"}``; ``loss`` and ``accuracy`` are ``[R]`` or ``[R, R]``
        (first index: first direction).
    """
    if len(directions) not in (1, 2):
        raise ValueError(f"one or two directions, got {len(directions)}")
    origin = [p.detach().clone() for p in params]
    shape = (len(coords),) * len(directions)
    loss, acc = torch.empty(shape, dtype=torch.float64), torch.empty(shape, dtype=torch.float64)
    points = [(i,) for i in range(len(coords))] if len(directions) == 1 else [
        (i, j) for i in range(len(coords)) for j in range(len(coords))
    ]
    buffers = [b.detach().clone() for b in model.buffers()]
    was_training = model.training
    try:
        if train_mode:
            model.train()
        for done, idx in enumerate(points, 1):
            with torch.no_grad():
                for k, (p, p0) in enumerate(zip(params, origin)):
                    step = p0.clone()
                    for d, i in zip(directions, idx):
                        if coords[i] != 0:
                            step.add_(d[k], alpha=float(coords[i]))
                    p.copy_(step)
            loss[idx], acc[idx] = loss_and_accuracy(model, batches)
            if on_point is not None:
                on_point(done, len(points))
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, origin):
                p.copy_(p0)
            for b, b0 in zip(model.buffers(), buffers):
                b.copy_(b0)
        model.train(was_training)
    return {"coords": coords, "loss": loss, "accuracy": acc}


def seed_plane(params: Sequence[nn.Parameter], generator: torch.Generator | None = None, distance: float = 1.0) -> list[Vec]:
    """The seed's two plane directions (``loss_landscapes.random_plane``, ``normalization="filter"``).

    1. ``d1 ~ U[0, 1)`` for every parameter, biases and BatchNorm included (all components
       positive: the plane is not centred on a symmetric distribution);
    2. ``d2 ~ U[0, 1)``, minus its projection on ``d1`` (one dot product over all parameters);
    3. filter normalisation: each slice ``d[f]`` of a parameter with two or more dimensions is
       rescaled to the norm of ``p[f]`` (``+1e-8`` in the denominator), a 1-D parameter as a
       whole to the norm of ``p``, scalars left as drawn;
    4. each direction rescaled to norm ``distance * ||theta|| / 2`` (``theta``: all parameters),
       so coordinates ``a, b in [-1, 1]`` span the seed's plane.

    Returns:
        ``[d1, d2]``, each shaped like ``params``.
    """
    params = list(params)

    def uniform() -> Vec:
        return [torch.rand(p.shape, generator=generator, dtype=torch.float64) for p in params]

    def dot(a: Vec, b: Vec) -> torch.Tensor:
        return sum((x * y).sum() for x, y in zip(a, b))

    d1, u2 = uniform(), uniform()
    coef = dot(u2, d1) / dot(d1, d1)
    d2 = [u - coef * d for u, d in zip(u2, d1)]
    ref = [p.detach().to(torch.float64).cpu() for p in params]
    theta = torch.sqrt(sum((w**2).sum() for w in ref))
    out = []
    for d in (d1, d2):
        normed = []
        for di, w in zip(d, ref):
            if di.dim() == 1:
                di = di * (w.norm() / di.norm())
            elif di.dim() >= 2:
                rows_d, rows_w = di.reshape(len(di), -1), w.reshape(len(w), -1)
                di = (rows_d * (rows_w.norm(dim=1, keepdim=True) / (rows_d.norm(dim=1, keepdim=True) + 1e-8))).reshape(di.shape)
            normed.append(di)
        scale = distance * theta / 2 / torch.sqrt(sum((x**2).sum() for x in normed))
        out.append([(x * scale).to(p.dtype).to(p.device) for x, p in zip(normed, params)])
    return out
