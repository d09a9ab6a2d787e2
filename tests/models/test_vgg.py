"""The conv family (vgg6/11/16, simple_conv, simple_flex): the SNNOutput contract as ANN and SNN, Flex where the
seed puts it, STBP, the seed's stateless neuron, initialisation, input normalisation, second derivatives."""

import math

import pytest
import torch
import torch.nn.functional as F

from snncli.models import Flex2D, create_model, flex_layers, is_conv_model, list_models
from snncli.models.vgg import ConvUnit

CONV = [m for m in list_models() if is_conv_model(m)]
TINY = dict(in_shape=(3, 32, 32), num_classes=5, width=0.0625, hidden_dim=16, T=3)


def test_the_family_is_registered():
    assert set(CONV) == {"vgg6", "vgg11", "vgg16", "simple_conv", "simple_flex"}


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
    flexible = sum(1 for k in model.kinds if k in ("conv", "down")) if flex else 0
    assert len(flex_layers(model)) == flexible


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


def test_seed_layout_of_vgg11_with_flex_at_every_convolution():
    model = create_model("vgg11", use_flex=True)
    convs = [m for m in model.features if isinstance(m, ConvUnit)]
    assert [c[0].conv.out_channels for c in convs] == [64, 128, 256, 256, 512, 512, 512, 512]
    flex = flex_layers(model)
    assert len(flex) == 13  # the seed's 13: eight 3x3 stride-1 (padded 3x3 stride-1 pool) and five 2x2 stride-2
    geometry = [(f.kernel_size, f.stride, f.padding) for f in flex]
    assert geometry.count((3, 1, 1)) == 8 and geometry.count((2, 2, 0)) == 5
    assert [f.out_shape[0] for f in flex if f.kernel_size == 3] == [64, 128, 256, 256, 512, 512, 512, 512]
    assert [lin.out_features for lin in model.hidden] == [1024, 1024] and model.readout.out_features == 10
    down = create_model("vgg11", use_flex=True, flex_layers="downsample")
    assert len(flex_layers(down)) == 5 and all(f.kernel_size == 2 and f.stride == 2 for f in flex_layers(down))
    plain = create_model("vgg11")
    assert not flex_layers(plain) and isinstance(plain.features[1], torch.nn.Conv2d) and plain.features[1].stride == (2, 2)
    with pytest.raises(ValueError, match="flex_layers"):
        create_model("vgg6", use_flex=True, flex_layers="some")


def test_seed_layout_of_simple_flex_net():
    model = create_model("simple_flex", in_shape=(3, 32, 32))
    flex = flex_layers(model)
    assert [(f.conv.in_channels, f.conv.out_channels, f.kernel_size, f.stride) for f in flex] == [
        (3, 16, 3, 1), (16, 32, 3, 1), (32, 64, 3, 1), (64, 128, 3, 1)]
    assert model.kinds == ["conv", "conv", "pool", "conv", "conv", "pool"]
    assert all(isinstance(model.features[i], torch.nn.MaxPool2d) for i in (2, 5))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.features if not isinstance(m, Flex2D)
                   for m in ([m] if not isinstance(m, ConvUnit) else list(m)))  # no BN after the convs
    assert [lin.out_features for lin in model.hidden] == [128, 128] and model.hidden[0].in_features == 128 * 8 * 8
    assert model.dropout.p == 0.2
    assert not flex_layers(create_model("simple_flex", use_flex=False))


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
        grads.append(flex_layers(model)[0].conv.weight.grad.clone())
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


def test_heaviside_neuron_is_the_seeds_stateless_step_with_a_tanh_slope():
    torch.manual_seed(0)
    model = create_model("vgg6", **TINY, spiking=True, neuron="heaviside", dropout=0.0).eval()
    x = torch.rand(2, 3, 32, 32)
    out = model(x.expand(3, *x.shape), record=True)
    assert out.spikes.shape == (1, 2, 5) and out.rates == ()  # one pass: no time, no membrane
    assert all(set(h.unique().tolist()) <= {0.0, 1.0} for h in out.hidden[:-1])  # the last: the logits
    # the activation by hand: step forward, 0.3 (1 - tanh^2) backward
    u = torch.linspace(-3, 3, 13, requires_grad=True)
    from snncli.neurons import stateless_spike

    s = stateless_spike(u)
    assert torch.equal(s.detach(), (u > 0).float())
    (g,) = torch.autograd.grad(s.sum(), u)
    torch.testing.assert_close(g, 0.3 * (1 - torch.tanh(u.detach()) ** 2))
    assert torch.equal(stateless_spike(u, straight_through=False), u.clamp(0, 1))
    # the seed's STBP flag chooses the surrogate (true) or the clamp (false)
    clamp = create_model("vgg6", **TINY, spiking=True, neuron="heaviside", use_stbp=False, dropout=0.0).eval()
    clamp.load_state_dict(model.state_dict())
    h = clamp(x[None], record=True).hidden
    assert any(((v > 0) & (v < 1)).any() for v in h[:-1])


def test_seed_initialisation_is_kaiming_normal_on_every_convolution():
    torch.manual_seed(0)
    model = create_model("vgg6", in_shape=(3, 28, 28), use_flex=True, init="kaiming")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 6  # Flex convolutions included
    for conv in convs:
        fan_in = conv.weight[0].numel()
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.15)
        assert conv.bias is None or torch.equal(conv.bias, torch.zeros_like(conv.bias))
    default = create_model("vgg6", in_shape=(3, 28, 28), use_flex=True)
    w = default.features[0][0].conv.weight
    assert w.std().item() < 0.8 * math.sqrt(2 / w[0].numel())  # torch's default is narrower


def test_input_normalisation_inside_the_model_equals_normalised_inputs():
    torch.manual_seed(0)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
    normed = create_model("vgg6", **TINY, use_flex=True, input_norm=(mean, std)).eval()
    plain = create_model("vgg6", **TINY, use_flex=True).eval()
    plain.load_state_dict({k: v for k, v in normed.state_dict().items() if not k.startswith("input_")})
    x = torch.rand(2, 3, 32, 32)
    m, s = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    torch.testing.assert_close(normed(x[None]).mem, plain(((x - m) / s)[None]).mem)
    assert "input_mean" in normed.state_dict()  # saved with the checkpoint
    grey = create_model("vgg6", **TINY, input_norm=((0.1307,), (0.3081,))).eval()  # one value: every channel
    assert grey(x[None]).mem.shape == (1, 2, 5)


def test_freeze_first_fc_keeps_the_seeds_untrained_first_classifier_layer():
    model = create_model("vgg6", **TINY, freeze_first_fc=True)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"hidden.0.weight", "hidden.0.bias"}
    snn = create_model("vgg6", **TINY, spiking=True, freeze_first_fc=True)  # BN after it still trains
    assert {n for n, p in snn.named_parameters() if not p.requires_grad} == {"hidden.0.0.weight", "hidden.0.0.bias"}

