"""Every registered spiking MLP: builds, runs, and equals its snnTorch per-step twin.

(The conv family, which has no snnTorch twin, is covered registry-wide in test_vgg.py.)"""

import pytest
import torch
import torch.nn.functional as F

from snncli.models import create_model, is_conv_model, list_models, model_defaults
from snncli.models.reference import SnnTorchMLP
from snncli.sparsity import expected_density

MLPS = [m for m in list_models() if not is_conv_model(m)]
SMALL = dict(in_shape=(1, 6, 6), num_classes=5, hidden_dim=48, T=12)


def _firing(model):
    # Scale weights so that every layer spikes on uniform inputs (default init is too quiet at this size).
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.mul_(8.0)
            layer.bias.fill_(0.05)
    return model


@pytest.mark.parametrize("name", MLPS)
def test_model_runs_and_returns_time_major_output(name):
    model = create_model(name, **SMALL)
    x = torch.rand(4, 1, 6, 6)
    out = model(x.expand(SMALL["T"], *x.shape))
    assert out.spikes.shape == (SMALL["T"], 4, SMALL["num_classes"])
    assert out.mem.shape == out.spikes.shape
    assert set(out.spikes.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("name", MLPS)
@pytest.mark.parametrize("constant", [True, False])
def test_equals_snntorch_per_step_loop(name, constant):
    torch.manual_seed(0)
    model = _firing(create_model(name, **SMALL))  # float32: snnTorch's spikes are always float32
    ref = SnnTorchMLP(model)
    x = torch.rand(5, 1, 6, 6)
    x_seq = x.expand(SMALL["T"], *x.shape) if constant else (torch.rand(SMALL["T"], *x.shape) < x).float()
    y = torch.randint(0, SMALL["num_classes"], (5,))
    out, ref_out = model(x_seq, record=True), ref(x_seq, record=True)
    for h, r in zip(out.hidden, ref_out.hidden):
        assert 0.005 < r.mean() < 0.98
        assert torch.equal(h, r)
    F.cross_entropy(out.spikes.sum(0), y).backward()
    F.cross_entropy(ref_out.spikes.sum(0), y).backward()
    for layer, lin in zip(model.layers, ref.linears):  # summation order differs: tolerance scaled to the gradient
        atol = 1e-4 * lin.weight.grad.abs().max().item()
        torch.testing.assert_close(layer.weight.grad, lin.weight.grad, rtol=1e-4, atol=atol)
        torch.testing.assert_close(layer.bias.grad, lin.bias.grad, rtol=1e-4, atol=atol)


def test_bf16_product_on_spikes_is_fp32_up_to_output_rounding():
    """Spikes are exact in bf16 and the kernel accumulates in fp32: what remains is rounding of the
    weights (2^-9 each) and of the output (2^-8), nothing that grows with the number of inputs."""
    from snncli.models import MaskedLinear

    torch.manual_seed(0)
    layer = MaskedLinear(512, 384)
    spikes = (torch.rand(7, 16, 512) < 0.2).float()
    ref = layer(spikes)
    low = layer(spikes, torch.bfloat16)
    assert low.dtype == torch.bfloat16
    err = (low.float() - ref).abs()
    with torch.no_grad():
        bound = 2**-8 * (ref.abs() + spikes @ layer.weight.abs().t() + layer.bias.abs())
    assert (err <= bound).all()
    assert err.max() > 0  # the bf16 path was really taken
    g = torch.randn(ref.shape)
    (dw_ref,) = torch.autograd.grad((ref * g).sum(), layer.weight)
    (dw_low,) = torch.autograd.grad((low.float() * g).sum(), layer.weight)
    torch.testing.assert_close(dw_low, dw_ref, rtol=2e-2, atol=2e-2 * dw_ref.abs().max().item())


@pytest.mark.parametrize("name", ["dense", "index", "random", "mixer"])
def test_bf16_network_spikes_agree_with_snntorch(name):
    """Rounded currents flip a few spikes near threshold: agreement within 3% per layer, not equality."""
    torch.manual_seed(0)
    # Two hidden layers at beta 0.9: flipped spikes compound with depth, and this checks the product.
    model = create_model(name, **{**SMALL, "hidden_dim": 256, "hidden_layers": 2, "beta": 0.9})
    with torch.no_grad():  # currents of the order of the threshold, as after training
        for layer in model.layers:
            density = 1.0 if layer.mask is None else layer.mask.mean().item()
            layer.weight.mul_(3.0 / density**0.5)
            layer.bias.fill_(0.05)
    ref = SnnTorchMLP(model)
    model.set_precision("bf16")
    assert model.product_dtypes == [None, torch.bfloat16, None]
    x = torch.rand(32, 1, 6, 6)
    x_seq = x.expand(SMALL["T"], *x.shape)
    out, ref_out = model(x_seq, record=True), ref(x_seq, record=True)
    for h, r in zip(out.hidden, ref_out.hidden):
        assert r.mean() > 0.01
        assert (h.float() != r).float().mean() < 0.03
    with torch.no_grad():  # inference takes the same path without saving anything
        assert torch.equal(model(x_seq).spikes, out.spikes)


@pytest.mark.parametrize("name", ["index", "random", "mixer"])
@pytest.mark.parametrize("p_inter", [0.0, 0.15, 0.5])
def test_g2g_mask_density_matches_p_inter(name, p_inter):
    model = create_model(name, in_shape=(1, 28, 28), num_classes=10, hidden_dim=512, p_inter=p_inter)
    *hidden, readout = model.layers
    assert len(hidden) == 3 and readout.mask is None  # the seed's fc1..fc3 masked, fc_out dense
    for layer in hidden:
        assert layer.mask.mean().item() == pytest.approx(expected_density(8, p_inter), abs=0.01)


def test_readme_layout_is_two_masked_hidden_layers_and_a_masked_readout():
    model = create_model("mixer", hidden_dim=256, hidden_layers=2, readout="masked")
    assert [l.out_features for l in model.layers] == [256, 256, 10]
    assert all(l.mask is not None for l in model.layers)


def test_seed_init_rescales_active_weights_by_fan_in_and_bounds_the_bias():
    torch.manual_seed(0)
    sparse = create_model("index", hidden_dim=512, p_inter=0.0).layers[1]  # fan-in 64 of 512
    dense = create_model("dense", hidden_dim=512).layers[1]
    active = sparse.weight[sparse.mask.bool()]
    # Kaiming-uniform(a=sqrt 5) is U(+-1/sqrt(in)); rescaled by sqrt(in / fan_in) it is U(+-1/sqrt(fan_in)).
    assert active.abs().max() <= 1 / 64**0.5 and active.abs().max() > 0.95 / 64**0.5
    assert dense.weight.abs().max() <= 1 / 512**0.5
    assert sparse.bias.abs().max() <= 1 / 64**0.5 and sparse.bias.abs().max() > 1 / 512**0.5
    torch_init = create_model("index", hidden_dim=512, p_inter=0.0, init="torch").layers[1]
    assert torch_init.weight.abs().max() <= 1 / 512**0.5
    assert torch.all(torch_init.weight[torch_init.mask == 0] == 0)


@pytest.mark.parametrize("name", ["index", "random", "mixer"])
def test_mask_draws_are_independent_of_the_weight_draws_for_one_seed(name):
    """`snn train` seeds torch with --seed and passes the same number as mask_seed: the masks must not
    replay the weights' uniforms (they did: every inter-group weight came out near -bound)."""
    torch.manual_seed(42)
    model = create_model(name, hidden_dim=256, p_inter=0.15, mask_seed=42)
    for layer in model.layers:
        if layer.mask is None:
            continue
        active = layer.weight[layer.mask.bool()].detach()
        assert abs(active.mean().item()) < 0.05 * active.std().item()  # ~50k weights: s.e. of the mean 0.005 std
    x_seq = torch.rand(1, 64, 1, 28, 28).expand(50, -1, -1, -1, -1)  # constant current, the default encoding
    with torch.no_grad():
        assert model(x_seq).rates[0].item() > 0.01


def test_defaults_follow_the_seeds():
    assert model_defaults("dense")["hidden_dim"] == 2048 and model_defaults("dense")["T"] == 50
    assert model_defaults("mlp")["hidden_dim"] == 512 and model_defaults("mlp")["T"] == 25
    assert model_defaults("mixer")["p_inter"] == 0.15 and model_defaults("mixer")["groups"] == 8
    for name in ("dense", "index", "random", "mixer"):  # the seed's code at the commit behind its logs
        d = model_defaults(name)
        assert (d["hidden_layers"], d["beta"], d["surrogate"], d["slope"]) == (3, 0.95, "fast_sigmoid", None)
        assert d["weight_decay"] == 1e-4 and d["val_fraction"] == 0.0  # Adam's L2 term; all 60 000 images train
    from snncli.neurons import SURROGATES
    assert SURROGATES["fast_sigmoid"].default_slope == 25.0  # the seed's slope


def test_unknown_model_lists_choices():
    with pytest.raises(ValueError, match="choose from .*dense"):
        create_model("resnet9000")


def test_dense_equal_parameter_baseline_is_the_seeds_447_for_1024():
    dense = create_model("dense", hidden_dim=1024, match_params=True)  # p_inter 0.15, 8 groups
    assert dense.sizes == [784, 447, 447, 447, 10]
    sparse = create_model("index", hidden_dim=1024)
    sparse_params = sparse.connections()[0] + sum(l.bias.numel() for l in sparse.layers)
    assert abs(sum(p.numel() for p in dense.parameters()) - sparse_params) / sparse_params < 0.01
    assert create_model("dense", hidden_dim=1024, match_params=True, p_inter=0.0).sizes[1] < 447
