"""Gradient flow: statistics match autograd, flags follow the documented thresholds."""

import pytest
import torch
import torch.nn.functional as F

from snncli.analysis.gradflow import gradient_flow
from snncli.models import SNNClassifier, create_model


def setup(threshold=0.5):
    torch.manual_seed(0)
    model = create_model("mlp", in_shape=(1, 4, 4), num_classes=3, hidden_dim=8, T=4, threshold=threshold).eval()
    clf = SNNClassifier(model, T=4, readout="membrane")
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.rand(6, 1, 4, 4, generator=gen), torch.randint(0, 3, (6,), generator=gen)) for _ in range(2)]
    return clf, batches


def test_statistics_are_the_batch_averaged_gradients():
    clf, batches = setup()
    res = gradient_flow(clf, batches)
    assert [r["name"] for r in res["layers"]] == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    grads = []
    for x, y in batches:
        grads.append(torch.autograd.grad(F.cross_entropy(clf(x), y), clf.model.layers[0].weight)[0])
    row = res["layers"][0]
    assert row["mean_abs"] == pytest.approx(sum(g.abs().mean().item() for g in grads) / 2, rel=1e-5)
    assert row["max_abs"] == pytest.approx(max(g.abs().max().item() for g in grads), rel=1e-5)
    assert res["batches"] == 2 and all(p.grad is None for p in clf.parameters())


def test_flags():
    clf, batches = setup()
    res = gradient_flow(clf, batches, vanish=1e-7, explode=1e3)
    assert res["vanishing"] == [] and res["exploding"] == []
    # Thresholds that every tensor crosses.
    assert len(gradient_flow(clf, batches, vanish=1e3)["vanishing"]) == 4
    assert len(gradient_flow(clf, batches, explode=1e-12)["exploding"]) == 4
    # A silent network (threshold far above any input): hidden layer weights get no gradient.
    silent, b = setup(threshold=1e4)
    res = gradient_flow(silent, b)
    assert "layers.0.weight" in res["vanishing"]


def test_masked_weights_are_left_out():
    torch.manual_seed(0)
    model = create_model("mixer", in_shape=(1, 4, 4), num_classes=3, hidden_dim=8, T=4, threshold=0.5, groups=2, p_inter=0.2).eval()
    clf = SNNClassifier(model, T=4, enc_scale=4.0, readout="membrane")
    x, y = torch.rand(6, 1, 4, 4), torch.randint(0, 3, (6,))
    res = gradient_flow(clf, [(x, y)])
    layer = model.layers[1]
    (g,) = torch.autograd.grad(F.cross_entropy(clf(x), y), layer.weight)
    assert g.abs().sum() > 0
    row = next(r for r in res["layers"] if r["name"] == "layers.1.weight")
    assert row["mean_abs"] == pytest.approx(g[layer.mask.bool()].abs().mean().item(), rel=1e-5)
    assert row["mean_abs"] > g.abs().mean().item()  # the zeros of removed connections would dilute it
