"""The routing registries: every mask, logits and joint mechanism's forward values and straight-through slopes,
and a training step through a network with each of them."""

import math

import pytest
import torch
import torch.nn.functional as F

from snncli.models import create_model, flex_layers, list_joints, list_logits, list_masks, mask_entry
from snncli.models.flex import Flex2D
from snncli.models.routing import channelwise_maxpool, make_mask

X = torch.tensor([-4.0, -3.0, -1.0, -0.2, 0.0, 0.3, 0.5, 0.7, 2.0, 3.0, 4.0], dtype=torch.float64)
SIG = torch.sigmoid(X)
DSIG = SIG * (1 - SIG)
STEP0 = (X > 0).double()
STEP_HALF = (X > 0.5).double()
ONES = torch.ones_like(X)

#: mechanism -> (forward value, backward slope) on X, from each mechanism's equation
DETERMINISTIC = {
    "SIGMOID_HARD": ((X / 6 + 0.5).clamp(0, 1), (X.abs() < 3).double() / 6),
    "SIGMOID_SOFT": (SIG, DSIG),
    "SIGMOID_MUL": (torch.sigmoid(50 * X), 50 * torch.sigmoid(50 * X) * (1 - torch.sigmoid(50 * X))),
    "STE": (STEP0, ONES),
    "STE_FPBP": (STEP_HALF, ONES),
    "STE_FPBS": (STEP_HALF, DSIG),
    "STE_FSBP": (STEP0, ONES),
    "STE_FSBS": (STEP0, DSIG),
    "NONE": (ONES, torch.zeros_like(X)),
}
#: stochastic mechanism -> (probability of rounding up, lower value, backward slope)
P_FC = X.clamp(0, 1)
STOCHASTIC = {
    "StochasticRoundFPBP": (X - X.floor(), X.floor(), ONES),
    "StochasticRoundFPBS": (X - X.floor(), X.floor(), DSIG),
    "StochasticRoundFSBP": (SIG, torch.zeros_like(X), ONES),
    "StochasticRoundFSBS": (SIG, torch.zeros_like(X), torch.sigmoid(SIG) * (1 - torch.sigmoid(SIG))),
    "StochasticRoundFCBP": (P_FC - P_FC.floor(), P_FC.floor(), ONES),
    "StochasticRoundFCBS": (P_FC - P_FC.floor(), P_FC.floor(), torch.sigmoid(P_FC) * (1 - torch.sigmoid(P_FC))),
}


def test_every_seed_mask_is_registered_and_covered_here():
    assert set(list_masks()) == set(DETERMINISTIC) | set(STOCHASTIC)
    assert list_logits() == ["SPATIAL_ATTENTION", "THRESHOLD"]
    assert list_joints() == ["CHANNELWISE_MAXPOOL", "NONE"]


def _value_and_slope(name):
    x = X.clone().requires_grad_(True)
    m = make_mask(x, name)
    if not m.requires_grad:  # NONE: a constant
        return m, torch.zeros_like(X)
    (g,) = torch.autograd.grad(m.sum(), x, allow_unused=True)
    return m.detach(), (g if g is not None else torch.zeros_like(X))


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_mask_values_and_slopes(name):
    value, slope = _value_and_slope(name)
    want_value, want_slope = DETERMINISTIC[name]
    torch.testing.assert_close(value, want_value)
    torch.testing.assert_close(slope, want_slope)
    assert mask_entry(name).binary == (set(value.tolist()) <= {0.0, 1.0})


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_stochastic_rounding_values_frequencies_and_slopes(name):
    p_up, low, want_slope = STOCHASTIC[name]
    torch.manual_seed(0)
    draws = torch.stack([make_mask(X, name) for _ in range(4000)])
    assert ((draws == low) | (draws == low + 1)).all()  # a neighbouring integer
    freq = (draws == low + 1).double().mean(0)
    torch.testing.assert_close(freq, p_up, atol=0.03, rtol=0)  # unbiased: E[m] = x (or its sigmoid / clamp)
    _, slope = _value_and_slope(name)
    torch.testing.assert_close(slope, want_slope)
    assert mask_entry(name).stochastic


def test_straight_through_masks_are_twice_differentiable_with_zero_curvature():
    """A Hessian-vector product through the mask: the slope is a constant, the second derivative 0."""
    for name in ["SIGMOID_HARD", "STE_FPBS", "StochasticRoundFSBS"]:
        x = X.clone().requires_grad_(True)
        w = torch.randn_like(X, requires_grad=True)
        m = make_mask(x * w, name)
        (gw,) = torch.autograd.grad((m * X).sum(), w, create_graph=True)
        (hw,) = torch.autograd.grad(gw.sum(), w, allow_unused=True)
        assert hw is None or torch.equal(hw, torch.zeros_like(hw)), name


def test_sigmoid_mul_factor_reaches_the_mask():
    torch.testing.assert_close(make_mask(X, "SIGMOID_MUL", sigmoid_mul_factor=2.0), torch.sigmoid(2 * X))
    layer = Flex2D(2, 2, 2, (4, 4), stride=2, masking="SIGMOID_MUL", sigmoid_mul_factor=3.0, logits_bn=False).eval()
    x = torch.randn(2, 2, 4, 4)
    m = torch.sigmoid(3.0 * (F.max_pool2d(x, 2) - layer.threshold))
    torch.testing.assert_close(layer(x), m * layer.conv(x) + (1 - m) * F.max_pool2d(x, 2))


def test_redrawn_threshold_is_the_seeds_fresh_kaiming_uniform_draw_every_forward():
    torch.manual_seed(0)
    layer = Flex2D(4, 4, 2, (8, 8), stride=2, threshold="redrawn", logits_bn=False, masking="SIGMOID_SOFT")
    assert not any("threshold" in n for n, _ in layer.named_parameters())
    assert "logits.threshold" not in layer.state_dict()
    x = torch.randn(2, 4, 8, 8)
    seen = []
    for _ in range(3):
        layer.eval()(x)
        seen.append(layer.threshold.clone())
    bound = math.sqrt(6 / (4 * 4 * 4))
    assert all(t.abs().max() <= bound and t.abs().max() > 0.5 * bound for t in seen)
    assert not torch.equal(seen[0], seen[1])  # a new draw at every pass, test time included
    learned = Flex2D(4, 4, 2, (8, 8), stride=2)
    assert [n for n, _ in learned.named_parameters() if "threshold" in n] == ["logits.threshold"]


@pytest.mark.parametrize("kernel,stride,padding,hw", [(3, 1, 1, (6, 6)), (2, 2, 0, (6, 6)), (2, 2, 0, (7, 7))])
def test_spatial_attention_logits_follow_the_layers_geometry(kernel, stride, padding, hw):
    torch.manual_seed(0)
    layer = Flex2D(3, 5, kernel, hw, stride=stride, padding=padding, logits="SpatialAttentionBlock", attention_blocks=2)
    out = layer(torch.randn(4, 3, *hw))
    assert out.shape == (4, 5, *layer.out_shape[1:])
    convs = [m for m in layer.logits.blocks if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (3, 3, 3, 1), (3, 3, 3, 1), (3, 5, kernel, stride)]
    assert layer.threshold is None


def test_channelwise_maxpool_joint_takes_the_larger_path_and_routes_the_gradient_there():
    pool = torch.tensor([1.0, 2.0, 3.0, 5.0], requires_grad=True)
    conv = torch.tensor([2.0, 1.0, 3.0, 4.0], requires_grad=True)
    out, mask = channelwise_maxpool(pool, conv)
    assert out.tolist() == [2.0, 2.0, 3.0, 5.0] and mask.tolist() == [1.0, 0.0, 0.0, 0.0]  # a tie goes to the pool
    out.sum().backward()
    assert conv.grad.tolist() == [1.0, 0.0, 0.0, 0.0] and pool.grad.tolist() == [0.0, 1.0, 1.0, 1.0]
    layer = Flex2D(3, 3, 2, (4, 4), stride=2, joint="CHANNELWISE_MAXPOOL").eval()
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(layer(x), torch.maximum(layer.conv(x), F.max_pool2d(x, 2)))
    assert layer.logits is None and layer.binariness() == 1.0 and layer.seed_binariness() == 1.0


ROUTINGS = (
    [dict(masking_mechanism=m) for m in list_masks()]
    + [dict(logits_mechanism=lg) for lg in list_logits()]
    + [dict(joint_mechanism=j) for j in list_joints()]
    + [dict(flex_threshold="redrawn"), dict(logits_use_batchnorm=False)]
)


@pytest.mark.parametrize("routing", ROUTINGS, ids=lambda r: "-".join(f"{v}" for v in r.values()))
def test_every_mechanism_trains_a_step(routing):
    """Registry-wide: a Flex network with each mechanism takes an SGD step; the conv weights and,
    where it exists, the routing's own parameters receive gradient and change."""
    torch.manual_seed(0)
    model = create_model("vgg6", in_shape=(3, 12, 12), num_classes=4, width=0.125, hidden_dim=8, use_flex=True,
                         dropout=0.0, **routing)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.rand(8, 3, 12, 12), torch.arange(8) % 4
    before = [p.detach().clone() for p in model.parameters()]
    loss = F.cross_entropy(model(x[None]).mem.sum(0), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert math.isfinite(loss.item())
    first = flex_layers(model)[0]
    assert first.conv.weight.grad is not None and first.conv.weight.grad.abs().sum() > 0
    routed = [p for n, p in first.named_parameters() if n.startswith(("logits", "bn"))]
    if routed:
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in routed)
    assert sum(not torch.equal(a, p) for a, p in zip(before, model.parameters())) > 0
