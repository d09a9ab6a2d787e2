"""Spiking MLPs with learnable beta and threshold equal their snnTorch twin with Leaky(learn_beta, learn_threshold)."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models import create_model, is_conv_model, list_models
from snncli.models.reference import SnnTorchMLP

MLPS = [m for m in list_models() if not is_conv_model(m)]
SMALL = dict(in_shape=(1, 6, 6), num_classes=5, hidden_dim=48, T=12)


def _firing(model, beta=0.85, threshold=0.9):
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer, neuron in zip(model.layers, model.neurons):
            layer.weight.mul_(8.0)
            layer.bias.fill_(0.05)
            # distinct values per layer (and per neuron), so a mix-up between layers would show
            neuron.beta.copy_(beta - 0.1 * torch.rand(neuron.beta.shape, generator=gen))
            neuron.threshold.copy_(threshold + 0.2 * torch.rand(neuron.threshold.shape, generator=gen))
    return model


@pytest.mark.parametrize("name", MLPS)
@pytest.mark.parametrize("constant", [True, False])
@pytest.mark.parametrize("per_neuron", [False, True])
def test_learned_neurons_equal_snntorch(name, constant, per_neuron):
    torch.manual_seed(0)
    model = _firing(create_model(name, **SMALL, learn_beta=True, learn_threshold=True, per_neuron=per_neuron))
    ref = SnnTorchMLP(model)
    assert sum(p.numel() for p in ref.neurons.parameters()) == sum(p.numel() for p in model.neurons.parameters())
    x = torch.rand(5, 1, 6, 6)
    x_seq = x.expand(SMALL["T"], *x.shape) if constant else (torch.rand(SMALL["T"], *x.shape) < x).float()
    y = torch.randint(0, SMALL["num_classes"], (5,))
    out, ref_out = model(x_seq, record=True), ref(x_seq, record=True)
    for h, r in zip(out.hidden, ref_out.hidden):
        assert 0.005 < r.mean() < 0.98
        assert torch.equal(h, r)
    (F.cross_entropy(out.mem.sum(0), y) + F.cross_entropy(out.spikes.sum(0), y)).backward()
    (F.cross_entropy(ref_out.mem.sum(0), y) + F.cross_entropy(ref_out.spikes.sum(0), y)).backward()
    for neuron, leaky in zip(model.neurons, ref.neurons):
        for mine, theirs in ((neuron.beta, leaky.beta), (neuron.threshold, leaky.threshold)):
            assert mine.grad.shape == theirs.shape
            scale = theirs.grad.abs().max().item()
            assert scale > 0
            torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-4, atol=1e-5 * max(1.0, scale))
    for layer, lin in zip(model.layers, ref.linears):  # sums in another order: fp32 rounding of the largest
        atol = 1e-5 * lin.weight.grad.abs().max().item()
        torch.testing.assert_close(layer.weight.grad, lin.weight.grad, rtol=1e-4, atol=atol)


def test_learned_neurons_on_the_bf16_compact_path():
    """bf16 products and compact state: gradients of beta and threshold within bf16 rounding of fp32's.

    Weights on a 1/16 grid and small sums keep every hidden current exact in bf16, so both runs
    see the same spikes and differ only by the compact state (bf16 surrogate factor and membrane)."""
    kw = {**SMALL, "hidden_dim": 256, "learn_beta": True, "learn_threshold": True}
    grads, spikes = [], []
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = create_model("dense", **kw)
        model.set_precision(precision)
        with torch.no_grad():
            for layer in model.layers:
                layer.weight.copy_((layer.weight * 3.0 * 16).round().clamp(-4, 4) / 16)
                layer.bias.fill_(1 / 16)
        x = torch.rand(16, 1, 6, 6, generator=torch.Generator().manual_seed(1))
        out = model(x.expand(SMALL["T"], *x.shape), record=True)
        F.cross_entropy(out.mem.sum(0), torch.arange(16) % 5).backward()
        grads.append([torch.stack([n.beta.grad, n.threshold.grad]) for n in model.neurons])
        spikes.append([h.float() for h in out.hidden])
    assert model.compact
    for s32, s16 in zip(*spikes):
        assert 0.01 < s32.mean() < 0.9
        assert torch.equal(s32, s16)
    for g32, g16 in zip(*grads):
        assert g32.abs().min() > 0
        torch.testing.assert_close(g16, g32, rtol=2e-2, atol=1e-2 * g32.abs().max().item())


def test_fixed_neurons_add_no_state():
    model = create_model("dense", **SMALL)
    assert not any("neurons" in k for k in model.state_dict())
    learned = create_model("dense", **SMALL, learn_beta=True)
    assert sorted(k for k in learned.state_dict() if "neurons" in k) == [f"neurons.{i}.beta" for i in range(3)]
