"""The conv family (vgg6/11/16, simple_conv): the SNNOutput contract as ANN and SNN, Flex, STBP, second derivatives."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models import Flex2D, create_model, flex_layers, is_conv_model, list_models

CONV = [m for m in list_models() if is_conv_model(m)]
TINY = dict(in_shape=(3, 32, 32), num_classes=5, width=0.0625, hidden_dim=16, T=3)


def test_the_family_is_registered():
    assert set(CONV) == {"vgg6", "vgg11", "vgg16", "simple_conv"}


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize("flex", [False, True])
def test_ann_returns_logits_as_a_one_step_sequence(name, flex):
    torch.manual_seed(0)
    model = create_model(name, **TINY, use_flex=flex).eval()
    x = torch.rand(4, 3, 32, 32)
    out = model(x.expand(3, *x.shape), record=True)
    assert out.spikes.shape == (1, 4, 5) and torch.equal(out.spikes, out.mem)
    assert out.rates == () and len(out.hidden) > 0
    # Computed once per sample: the same logits for T=1 and for a constant T=3 sequence.
    torch.testing.assert_close(model(x[None]).mem, out.mem)
    assert len(flex_layers(model)) == (sum(1 for _ in model.kinds if _ == "down") if flex else 0)


@pytest.mark.parametrize("name", CONV)
def test_snn_returns_spikes_over_time_and_a_rate_per_lif_layer(name):
    torch.manual_seed(0)
    model = create_model(name, **TINY, spiking=True, use_flex=True)
    x = torch.rand(4, 3, 32, 32)
    out = model(x.expand(3, *x.shape), record=True)
    assert out.spikes.shape == out.mem.shape == (3, 4, 5)
    assert set(out.spikes.unique().tolist()) <= {0.0, 1.0}
    n_lif = model.kinds.count("conv") + len(model.hidden) + 1
    assert len(out.rates) == len(out.hidden) == n_lif
    assert all(h.shape[:2] == (3, 4) for h in out.hidden)
    assert out.rates[0].requires_grad
    assert flex_layers(model)[0].last_mask.shape[0] == 4  # [B, C, H, W]: the mean over the T steps


def test_seed_layout_of_vgg11():
    model = create_model("vgg11", use_flex=True)
    convs = [m for m in model.features if isinstance(m, torch.nn.Sequential)]
    assert [c[0].out_channels for c in convs] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert len(flex_layers(model)) == 5 and all(f.kernel_size == 2 and f.stride == 2 for f in flex_layers(model))
    assert [lin.out_features for lin in model.hidden] == [1024, 1024] and model.readout.out_features == 10
    plain = create_model("vgg11")
    assert not flex_layers(plain) and isinstance(plain.features[1], torch.nn.Conv2d) and plain.features[1].stride == (2, 2)


def test_constant_and_repeated_inputs_give_the_same_snn_output():
    torch.manual_seed(0)
    model = create_model("vgg6", **TINY, spiking=True, use_flex=True).eval()
    x = torch.rand(2, 3, 32, 32)
    a = model(x.expand(3, *x.shape))
    b = model(x.expand(3, *x.shape).contiguous())
    assert torch.equal(a.spikes, b.spikes)
    torch.testing.assert_close(a.mem, b.mem)


def test_stbp_changes_gradients_not_the_forward_pass():
    x = torch.rand(4, 3, 32, 32)
    x_seq = (torch.rand(4, *x.shape, generator=torch.Generator().manual_seed(0)) < x).float()
    y = torch.tensor([0, 1, 2, 3])
    outs, grads = [], []
    for stbp in (True, False):
        torch.manual_seed(0)
        model = create_model("vgg6", **{**TINY, "T": 4}, spiking=True, use_flex=True, use_stbp=stbp, threshold=0.5)
        out = model(x_seq)
        F.cross_entropy(out.mem.sum(0), y).backward()
        outs.append(out.mem.detach())
        grads.append(model.features[0][0].weight.grad.clone())
    torch.testing.assert_close(outs[0], outs[1])
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("stbp", [True, False])
def test_flex_snn_fits_a_batch(stbp):
    """Learning, cheaply: a few Adam steps drive the training loss of one batch well down, with and without STBP."""
    torch.manual_seed(0)
    model = create_model("vgg6", **TINY, spiking=True, use_flex=True, use_stbp=stbp, dropout=0.0)
    x = torch.rand(16, 3, 32, 32)
    y = torch.arange(16) % 5
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    losses = []
    for _ in range(12):
        loss = F.cross_entropy(model(x.expand(3, *x.shape)).mem.sum(0), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.parametrize("spiking", [False, True])
def test_flex_network_is_twice_differentiable(spiking):
    """A Hessian-vector product (what the hessian tools compute) through a Flex network in fp32."""
    torch.manual_seed(0)
    model = create_model("vgg6", **TINY, spiking=spiking, use_flex=True, dropout=0.0).eval()
    x = torch.rand(3, 3, 32, 32)
    loss = F.cross_entropy(model(x.expand(3, *x.shape)).mem.sum(0), torch.tensor([0, 1, 2]))
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, create_graph=True)
    vec = [torch.randn_like(p) for p in params]
    hv = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vec)), params, allow_unused=True)
    flat = torch.cat([h.flatten() for h in hv if h is not None])
    assert torch.isfinite(flat).all() and flat.abs().sum() > 0


def test_too_small_input_is_refused_clearly():
    with pytest.raises(ValueError, match="too small for 5 2x2 downsamplings"):
        create_model("vgg11", in_shape=(3, 16, 16), width=0.0625)
    assert create_model("vgg6", in_shape=(3, 28, 28), width=0.0625)  # the seed's MNIST setting


def test_flex_layers_expose_mask_and_metrics_for_other_tools():
    model = create_model("simple_conv", **TINY, use_flex=True, masking_mechanism="STE")
    model(torch.rand(1, 2, 3, 32, 32))
    for layer in flex_layers(model):
        assert isinstance(layer, Flex2D)
        assert layer.binariness() == 1.0 and 0.0 <= layer.conv_ratio() <= 1.0
