r"""Curvature of the loss around trained weights: top eigenvalues, trace and spectral density.

The Hessian :math:`H = \nabla^2_\theta L` is never formed; everything is built from
Hessian-vector products :math:`Hv = \nabla_\theta (\nabla_\theta L \cdot v)` (Pearlmutter, 1994),
averaged over a fixed list of batches:

- top-k eigenvalues by power iteration with deflation (PyHessian's ``eigenvalues``);
- the trace by Hutchinson's estimator :math:`\operatorname{tr} H = \mathbb{E}[v^\top H v]`,
  Rademacher :math:`v` (PyHessian's ``trace``, with its stopping rule fixed for negative traces);
- the eigenvalue spectral density by stochastic Lanczos quadrature (Ghorbani et al., 2019):
  ``steps`` Lanczos iterations per run give Ritz values (nodes) and weights (squared first
  components of the Ritz vectors), smoothed by Gaussians for the plot. PyHessian's own
  ``density`` calls ``torch.eig``, which torch 2 removed; :class:`BatchHessian` replaces it
  with ``torch.linalg.eigh`` of the same tridiagonal matrix.

Yao et al., "PyHessian: neural networks through the lens of the Hessian", IEEE BigData 2020.

**Spiking networks.** The loss goes through the spike nonlinearity, whose surrogate
derivative must itself be differentiable: every surrogate in :mod:`snncli.neurons` is twice
differentiable in the model's fp32 mode (callers set ``model.set_precision("fp32")``; the compact
bf16 mode refuses double backward). Neuron state is reset by every forward pass (the adapter),
so every Hessian-vector product sees the same function. Rate-coded inputs are redrawn from the
same seed for every product (see :class:`FixedBatches`), so H is the Hessian of one fixed loss.

**Memory.** Each product runs forward and double backward on one batch and frees that graph
before the next (``retain_graph=False``; gradients are dropped with ``zero_grad`` so no
``param.grad -> graph -> param`` cycle survives), so memory does not grow with iterations.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from pyhessian import hessian as _PyHessian
from pyhessian.utils import group_add, group_product, normalization, orthnormal

if TYPE_CHECKING:
    import numpy as np

Vec = list[torch.Tensor]



class FixedBatches:
    """A re-iterable list of ``(x, y)`` batches that restarts the adapter's rate-coding seed on
    every pass, so every pass over the data evaluates exactly the same loss."""

    def __init__(self, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], model: nn.Module, seed: int = 0):
        self.batches, self.model, self.seed = list(batches), model, seed

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        reseed = getattr(self.model, "reseed", None)
        if callable(reseed):
            reseed(self.seed)
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class BatchHessian(_PyHessian):
    """PyHessian over a fixed list of batches (its ``dataloader`` mode) with a working ``density``.

    Args:
        model: images -> logits (the classifier adapter), in eval mode.
        batches: the data, re-iterated for every Hessian-vector product.
        device: where the model is.
        params: restrict H to these parameters (a diagonal block); default: all trainable ones.
    """

    def __init__(self, model: nn.Module, batches: FixedBatches, device: torch.device, params: Sequence[nn.Parameter] | None = None):
        self.model = model.eval()
        self.criterion = F.cross_entropy
        self.data, self.full_dataset = batches, True
        self.device = str(device)
        self.params = list(params) if params is not None else [p for p in model.parameters() if p.requires_grad]
        self.gradsH = None

    def dataloader_hv_product(self, v: Vec) -> tuple[float, Vec]:
        """``(v.Hv, Hv)`` averaged over the batches, one batch graph alive at a time."""
        total = [torch.zeros_like(p) for p in self.params]
        n = 0
        for x, y in self.data:
            loss = self.criterion(self.model(x.to(self.device)), y.to(self.device))
            grads = torch.autograd.grad(loss, self.params, create_graph=True)
            hv = torch.autograd.grad(grads, self.params, grad_outputs=v, retain_graph=False)
            for t, h in zip(total, hv):
                t.add_(h.detach(), alpha=float(len(y)))
            n += len(y)
            del loss, grads, hv
        total = [t / n for t in total]
        return group_product(total, v).item(), total

    def trace(self, maxIter: int = 100, tol: float = 1e-3) -> list[float]:  # noqa: N803 - PyHessian's name
        """Hutchinson samples ``v.Hv`` (Rademacher ``v``) until the running mean moves by less than ``tol``
        (relative). PyHessian's version divides by the signed trace and stops after two samples
        whenever the trace is negative, which a spiking network's Hessian can have."""
        samples: list[float] = []
        mean = 0.0
        for _ in range(maxIter):
            v = [torch.randint_like(p, high=2) * 2 - 1 for p in self.params]
            samples.append(group_product(self.dataloader_hv_product(v)[1], v).item())
            new = sum(samples) / len(samples)
            if len(samples) > 1 and abs(new - mean) / (abs(mean) + 1e-6) < tol:
                break
            mean = new
        return samples

    def density(self, iter: int = 40, n_v: int = 1) -> tuple[list[list[float]], list[list[float]]]:  # noqa: A002 - PyHessian's name
        """Stochastic Lanczos quadrature: per run, Ritz values and their weights (they sum to 1)."""
        nodes_all, weights_all = [], []
        for _ in range(n_v):
            v = [torch.randint_like(p, high=2) * 2 - 1 for p in self.params]
            v = normalization(v)
            vs, alphas, betas = [v], [], []
            w = None
            for i in range(iter):
                if i > 0:
                    beta = math.sqrt(max(group_product(w, w).item(), 0.0))
                    if beta < 1e-10:  # an invariant subspace: the spectrum seen so far is exact
                        break
                    betas.append(beta)
                    v = orthnormal(w, vs)
                    vs.append(v)
                _, hv = self.dataloader_hv_product(v)
                alpha = group_product(hv, v).item()
                alphas.append(alpha)
                w = group_add(hv, v, alpha=-alpha)
                if i > 0:
                    w = group_add(w, vs[-2], alpha=-betas[-1])
            m = len(alphas)
            tri = torch.diag(torch.tensor(alphas, dtype=torch.float64))
            if m > 1:
                off = torch.tensor(betas[: m - 1], dtype=torch.float64)
                tri += torch.diag(off, 1) + torch.diag(off, -1)
            evals, evecs = torch.linalg.eigh(tri)
            nodes_all.append(evals.tolist())
            weights_all.append((evecs[0] ** 2).tolist())
        return nodes_all, weights_all


def spectral_density(nodes: Sequence[Sequence[float]], weights: Sequence[Sequence[float]], points: int = 400,
                     sigma: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth SLQ output into a density on a grid: ``(grid, density)``, averaged over runs.

    Each Ritz value becomes a Gaussian of width ``sigma`` (default 1% of the spectrum's range)
    carrying its weight; the density integrates to about 1.
    """
    flat = torch.tensor([x for run in nodes for x in run], dtype=torch.float64)
    lo, hi = flat.min().item(), flat.max().item()
    span = max(hi - lo, 1e-6)
    sigma = sigma or 0.01 * span
    grid = torch.linspace(lo - 0.05 * span - 3 * sigma, hi + 0.05 * span + 3 * sigma, points, dtype=torch.float64)
    dens = torch.zeros_like(grid)
    for run_nodes, run_weights in zip(nodes, weights):
        n = torch.tensor(run_nodes, dtype=torch.float64)[:, None]
        w = torch.tensor(run_weights, dtype=torch.float64)[:, None]
        dens += (w * torch.exp(-((grid[None] - n) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))).sum(0)
    return grid, dens / len(nodes)


def layer_blocks(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Trainable parameters grouped by the module that owns them (``layers.0`` -> weight, bias)."""
    blocks: dict[str, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            owner = name.rsplit(".", 1)[0] if "." in name else name
            blocks.setdefault(owner.removeprefix("model."), []).append(p)
    return blocks


def hessian_spectrum(
    model: nn.Module, batches: FixedBatches, device: torch.device, *, top_k: int = 3, iters: int = 50, tol: float = 1e-3,
    trace_iters: int = 50, density_steps: int = 30, density_runs: int = 1, per_layer: bool = False, seed: int = 0,
    parts: Sequence[str] = ("eigenvalues", "trace", "density"),
    on_part: Callable[[str], None] | None = None,
) -> dict:
    """Top eigenvalues, trace, spectral density (and per-layer top eigenvalues) of the loss Hessian.

    Returns:
        ``{"eigenvalues", "trace", "trace_samples", "density": {"nodes", "weights"},
        "per_layer": {name: top eigenvalue}, "parameters", "eigenvectors"}``; ``eigenvectors``
        (lists of tensors) is for landscape directions and is not JSON.
    """
    note = on_part or (lambda part: None)
    hess = BatchHessian(model, batches, device)
    result: dict = {"parameters": sum(p.numel() for p in hess.params)}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        if "eigenvalues" in parts:
            note("eigenvalues")
            vals, vecs = hess.eigenvalues(maxIter=iters, tol=tol, top_n=top_k)
            result["eigenvalues"] = [float(v) for v in vals]
            result["eigenvectors"] = vecs
        if "trace" in parts:
            note("trace")
            samples = hess.trace(maxIter=trace_iters, tol=tol)
            result["trace"] = float(sum(samples) / len(samples))
            result["trace_samples"] = len(samples)
        if "density" in parts:
            note("density")
            nodes, weights = hess.density(iter=density_steps, n_v=density_runs)
            result["density"] = {"nodes": nodes, "weights": weights}
            # Lanczos finds the extremes of the spectrum first: with an indefinite Hessian these are
            # often better converged than power iteration's, which slows when |min| ~ |max|.
            flat = [x for run in nodes for x in run]
            result["lanczos_extremes"] = [min(flat), max(flat)]
        if per_layer:
            result["per_layer"] = {}
            for name, params in layer_blocks(model).items():
                note(f"per-layer {name}")
                block = BatchHessian(model, batches, device, params=params)
                vals, _ = block.eigenvalues(maxIter=iters, tol=tol, top_n=1)
                result["per_layer"][name] = float(vals[0])
    return result


def eigenvector_arrays(vectors: Sequence[Vec], names: Sequence[str]) -> dict[str, "np.ndarray"]:
    """Eigenvectors as plain arrays keyed ``v{k}/{parameter name}`` (for ``numpy.savez``: no pickles).

    Args:
        vectors: per eigenvalue, one tensor per parameter (:func:`hessian_spectrum`'s ``eigenvectors``).
        names: the parameters' names, in the same order.
    """
    out = {}
    for k, vec in enumerate(vectors):
        if len(vec) != len(names):
            raise ValueError(f"eigenvector {k} has {len(vec)} parts for {len(names)} parameter names")
        for name, part in zip(names, vec):
            out[f"v{k}/{name}"] = part.detach().float().cpu().numpy()
    return out
