"""Hessian spectrum of a spiking network against an exact eigendecomposition of a tiny model."""

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from snncli.analysis.hessian import (
    BatchHessian,
    FixedBatches,
    hessian_spectrum,
    spectral_density,
)
from snncli.models import SNNClassifier, create_model


def tiny():
    torch.manual_seed(0)
    model = create_model("mlp", in_shape=(1, 3, 3), num_classes=3, hidden_dim=3, T=4, threshold=0.5, surrogate="fast_sigmoid")
    model.set_precision("fp32")
    clf = SNNClassifier(model.eval(), T=4, enc="current", readout="membrane")
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.rand(n, 1, 3, 3, generator=gen), torch.randint(0, 3, (n,), generator=gen)) for n in (12, 8)]
    return clf, batches


def exact_hessian(clf, batches):
    names = [n for n, _ in clf.named_parameters()]
    shapes = [p.shape for _, p in clf.named_parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for _, p in clf.named_parameters()])

    def loss(flat):
        params, i = {}, 0
        for n, s in zip(names, shapes):
            params[n] = flat[i : i + s.numel()].reshape(s)
            i += s.numel()
        n_total = sum(len(y) for _, y in batches)
        return sum(F.cross_entropy(functional_call(clf, params, (x,)), y, reduction="sum") for x, y in batches) / n_total

    return torch.autograd.functional.hessian(loss, flat0)


def test_top_eigenvalue_trace_and_density_match_the_exact_hessian():
    clf, batches = tiny()
    H = exact_hessian(clf, batches)
    assert torch.allclose(H, H.T, atol=1e-5)
    evals = torch.linalg.eigvalsh(H.double())
    top = evals[evals.abs().argmax()].item()
    assert abs(top) > 1e-3  # the surrogate's second derivative gives real curvature
    res = hessian_spectrum(clf, FixedBatches(batches, clf), torch.device("cpu"), top_k=1, iters=100, tol=1e-6,
                           trace_iters=20, density_steps=16, per_layer=True, seed=0)
    assert abs(res["eigenvalues"][0] - top) < 1e-3 * max(1.0, abs(top))
    assert res["parameters"] == H.shape[0]
    # Hutchinson with Rademacher v: unbiased, variance 2 * sum_{i != j} H_ij^2 per sample.
    off = (H.double() ** 2).sum() - (H.double().diagonal() ** 2).sum()
    stderr = (2 * off / res["trace_samples"]).sqrt().item()
    assert res["trace_samples"] == 20  # tol=1e-6: all samples drawn
    assert abs(res["trace"] - evals.sum().item()) < 4 * stderr + 1e-6
    # Lanczos: the extreme Ritz value converges to the extreme eigenvalue first.
    nodes = res["density"]["nodes"][0]
    assert abs(max(nodes) - evals.max().item()) < 1e-2 * max(1.0, evals.abs().max().item())
    assert abs(sum(res["density"]["weights"][0]) - 1) < 1e-6
    grid, dens = spectral_density(res["density"]["nodes"], res["density"]["weights"])
    assert abs((dens * (grid[1] - grid[0])).sum().item() - 1) < 0.05
    # Per-layer: the top eigenvalue of each diagonal block, exactly.
    sizes = [p.numel() for p in clf.parameters()]
    starts = [0] + list(torch.tensor(sizes).cumsum(0).tolist())
    block0 = H[: starts[2], : starts[2]]  # layers.0: weight and bias
    b_evals = torch.linalg.eigvalsh(block0.double())
    b_top = b_evals[b_evals.abs().argmax()].item()
    assert abs(res["per_layer"]["layers.0"] - b_top) < 1e-3 * max(1.0, abs(b_top))


def test_hessian_vector_products_keep_no_graph_alive():
    clf, batches = tiny()
    hess = BatchHessian(clf, FixedBatches(batches, clf), torch.device("cpu"))
    v = [torch.randn_like(p) for p in hess.params]
    first = hess.dataloader_hv_product(v)[1]
    for _ in range(2):
        again = hess.dataloader_hv_product(v)[1]
    assert all(p.grad is None for p in clf.parameters())
    assert all(not h.requires_grad and h.grad_fn is None for h in again)
    for a, b in zip(first, again):
        torch.testing.assert_close(a, b)  # deterministic: the same loss every pass


def test_rate_coded_batches_repeat_the_same_encoding():
    torch.manual_seed(0)
    model = create_model("mlp", in_shape=(1, 3, 3), num_classes=3, hidden_dim=4, T=3)
    clf = SNNClassifier(model.eval(), T=3, enc="rate", seed=2)
    data = FixedBatches([(torch.rand(4, 1, 3, 3), torch.zeros(4, dtype=torch.long))], clf, seed=9)
    outs = [clf(x) for _ in range(2) for x, _ in data]
    torch.testing.assert_close(outs[0], outs[1])


def test_eigenvectors_become_named_arrays_without_pickles(tmp_path):
    import numpy as np

    from snncli.analysis.hessian import eigenvector_arrays
    from snncli.config.protocols import SEED_HESSIAN

    vecs = [[torch.ones(2, 3), torch.zeros(4)], [torch.full((2, 3), 2.0), torch.ones(4)]]
    arrays = eigenvector_arrays(vecs, ["fc.weight", "fc.bias"])
    assert sorted(arrays) == ["v0/fc.bias", "v0/fc.weight", "v1/fc.bias", "v1/fc.weight"]
    np.savez(tmp_path / "v.npz", **arrays)
    loaded = np.load(tmp_path / "v.npz", allow_pickle=False)
    assert loaded["v1/fc.weight"].tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match="2 parts for 1"):
        eigenvector_arrays(vecs, ["fc.weight"])
    assert (SEED_HESSIAN["batch_size"], SEED_HESSIAN["top_k"], SEED_HESSIAN["iters"]) == (16, 5, 100)
