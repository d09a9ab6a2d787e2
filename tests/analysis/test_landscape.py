"""Loss landscape: the centre is the trained model, weights come back, directions are filter-normalised."""

import pytest
import torch

from snncli.analysis.evaluation import loss_and_accuracy
from snncli.analysis.hessian import FixedBatches
from snncli.analysis.landscape import (
    grid_coordinates,
    loss_surface,
    random_direction,
    scaled_to_weights,
)
from snncli.models import SNNClassifier, create_model


def setup(model_name="mlp", enc="current"):
    torch.manual_seed(0)
    kw = dict(groups=2, p_inter=0.3) if model_name == "mixer" else {}
    model = create_model(model_name, in_shape=(1, 4, 4), num_classes=3, hidden_dim=8, T=4, threshold=0.5, **kw).eval()
    clf = SNNClassifier(model, T=4, enc=enc, readout="membrane", seed=1)
    gen = torch.Generator().manual_seed(2)
    data = FixedBatches([(torch.rand(10, 1, 4, 4, generator=gen), torch.randint(0, 3, (10,), generator=gen))], clf, seed=3)
    return clf, data, [p for p in clf.parameters()]


@pytest.mark.parametrize("enc", ["current", "rate"])
def test_centre_equals_the_model_loss_and_weights_are_restored(enc):
    clf, data, params = setup(enc=enc)
    before = [p.detach().clone() for p in params]
    loss0, acc0 = loss_and_accuracy(clf, data)
    gen = torch.Generator().manual_seed(0)
    dirs = [random_direction(clf, params, gen) for _ in range(2)]
    coords = grid_coordinates(1.0, 5)
    out = loss_surface(clf, data, params, dirs, coords)
    assert out["loss"].shape == (5, 5)
    assert out["loss"][2, 2].item() == loss0 and out["accuracy"][2, 2].item() == acc0
    assert out["loss"].max() > out["loss"][2, 2]  # moving the weights does change the loss
    for p, b in zip(params, before):
        assert torch.equal(p, b)
    one = loss_surface(clf, data, params, dirs[:1], coords)
    assert one["loss"].shape == (5,) and one["loss"][2].item() == loss0


def test_weights_are_restored_even_when_evaluation_fails():
    clf, data, params = setup()
    before = [p.detach().clone() for p in params]
    calls = []

    def boom(done, total):
        calls.append(done)
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        loss_surface(clf, data, params, [random_direction(clf, params)], grid_coordinates(1.0, 3), on_point=boom)
    assert calls == [1]
    for p, b in zip(params, before):
        assert torch.equal(p, b)


def test_filter_normalised_directions_skip_biases_and_masked_weights():
    clf, _, params = setup("mixer")
    named = dict(clf.named_parameters())
    dirs = dict(zip(named, random_direction(clf, params, torch.Generator().manual_seed(0))))
    for name, p in named.items():
        d = dirs[name]
        if p.dim() == 1:
            assert torch.equal(d, torch.zeros_like(p))
            continue
        mask = clf.get_submodule(name.rsplit(".", 1)[0]).mask
        w = p.detach() * mask if mask is not None else p.detach()
        if mask is not None:
            assert torch.equal(d[mask == 0], torch.zeros_like(d[mask == 0]))
        torch.testing.assert_close(d.norm(dim=1), w.norm(dim=1))
    scaled = scaled_to_weights([torch.ones_like(p) for p in params], params)
    norm = torch.sqrt(sum((s**2).sum() for s in scaled))
    torch.testing.assert_close(norm, torch.sqrt(sum((p.detach() ** 2).sum() for p in params)))


def test_grid_needs_an_odd_resolution():
    assert grid_coordinates(2.0, 5).tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="odd"):
        grid_coordinates(1.0, 4)


# ----------------------------------------------------------------------------- the seed's plane

from snncli.analysis.landscape import seed_plane  # noqa: E402
from snncli.config.protocols import SEED_LANDSCAPE  # noqa: E402


def test_seed_plane_is_filter_normalised_uniform_directions_at_half_the_weight_norm():
    torch.manual_seed(0)
    model = create_model("vgg6", in_shape=(3, 8, 8), num_classes=3, width=0.125, hidden_dim=8, use_flex=True)
    params = [p for p in model.parameters() if p.requires_grad]
    d1, d2 = seed_plane(params, torch.Generator().manual_seed(1), distance=1.0)
    theta = torch.sqrt(sum((p.detach() ** 2).sum() for p in params))
    for d in (d1, d2):
        norm = torch.sqrt(sum((x**2).sum() for x in d))
        torch.testing.assert_close(norm, theta / 2, rtol=1e-5, atol=0)
        assert any(x.dim() == 1 and x.abs().sum() > 0 for x in d)  # biases and BN parameters move too
        for x, p in zip(d, params):
            w = p.detach()
            if w.dim() >= 2:  # every filter moves by half its own norm (up to the 1e-8 guard)
                rows = x.reshape(len(x), -1).norm(dim=1)
                torch.testing.assert_close(rows, w.reshape(len(w), -1).norm(dim=1) / 2, rtol=1e-4, atol=1e-6)
            elif w.dim() == 1 and w.norm() > 0:
                torch.testing.assert_close(x.norm(), w.norm() / 2, rtol=1e-4, atol=0)
    assert all((x >= 0).all() for x in d1)  # U[0, 1) draws: the first direction is all non-negative
    assert any((x < 0).any() for x in d2)  # the second was orthogonalised against it
    again = seed_plane(params, torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(d1, again[0]))
    assert SEED_LANDSCAPE["resolution"] == 101 and SEED_LANDSCAPE["smooth"] == 1.0


def test_train_mode_surface_restores_running_statistics_and_mode():
    torch.manual_seed(0)
    model = create_model("vgg6", in_shape=(3, 8, 8), num_classes=3, width=0.125, hidden_dim=8, use_flex=True).eval()
    clf = SNNClassifier(model, T=1, readout="membrane")
    data = FixedBatches([(torch.rand(6, 3, 8, 8), torch.randint(0, 3, (6,)))], clf)
    params = [p for p in clf.parameters() if p.requires_grad]
    buffers = [b.clone() for b in clf.buffers()]
    dirs = seed_plane(params, torch.Generator().manual_seed(0))
    out = loss_surface(clf, data, params, dirs, grid_coordinates(1.0, 3), train_mode=True)
    assert torch.isfinite(out["loss"]).all() and not clf.training
    assert all(torch.equal(a, b) for a, b in zip(buffers, clf.buffers()))
    evaluated = loss_surface(clf, data, params, dirs, grid_coordinates(1.0, 3))
    assert evaluated["loss"][1, 1].item() == loss_and_accuracy(clf, data)[0]
    assert not torch.equal(out["loss"], evaluated["loss"])  # batch statistics differ from running ones
