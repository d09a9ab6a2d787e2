"""The Flex layer: routing arithmetic, masking mechanisms, initial conv ratio and the logged statistics."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models.flex import (
    Flex2D,
    flex_epoch_stats,
    hard_sigmoid,
    make_mask,
    match_channels,
)


def test_hard_sigmoid_forward_and_slope_backward():
    x = torch.tensor([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0], requires_grad=True)
    y = hard_sigmoid(x)
    assert y.tolist() == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1, 1])
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 0], abs=1e-7)


def test_ste_is_an_exact_step_forward_and_the_identity_backward():
    x = torch.tensor([-2.0, -1e-7, 1e-7, 0.3, 5.0], requires_grad=True)
    m = make_mask(x, "STE")
    assert m.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    (m * torch.arange(5.0)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_soft_and_none():
    x = torch.randn(10)
    assert torch.equal(make_mask(x, "SIGMOID_SOFT"), torch.sigmoid(x))
    assert torch.equal(make_mask(x, "NONE"), torch.ones(10))
    with pytest.raises(ValueError, match="SIGMOID_HARD"):
        make_mask(x, "RELU")


@pytest.mark.parametrize("masking", ["SIGMOID_HARD", "SIGMOID_SOFT", "STE"])
def test_output_mixes_conv_and_pool_per_unit(masking):
    torch.manual_seed(0)
    layer = Flex2D(4, 4, 2, (8, 8), stride=2, masking=masking, logits_bn=False).eval()
    with torch.no_grad():
        layer.threshold.normal_()
    x = torch.randn(3, 4, 8, 8)
    conv, pool = layer.conv(x), F.max_pool2d(x, 2, 2)
    mask = make_mask(pool - layer.threshold, masking)
    torch.testing.assert_close(layer(x), mask * conv + (1 - mask) * pool)
    assert layer.last_mask.shape == (3, 4, 4, 4) and not layer.last_mask.requires_grad
    assert layer.conv_ratio() == pytest.approx((mask > 0.5).float().mean().item())
    near = ((mask < 0.05) | (mask > 0.95)).float().mean().item()
    assert layer.binariness() == pytest.approx(near)
    if masking == "STE":
        assert layer.binariness() == 1.0


def test_none_is_the_plain_convolution():
    layer = Flex2D(3, 5, 2, (6, 6), stride=2, masking="NONE")
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(layer(x), layer.conv(x))
    assert layer.conv_ratio() == 1.0 and layer.binariness() == 1.0


def test_pool_channels_are_mapped_onto_the_conv_channels():
    x = torch.arange(3.0).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert match_channels(x, 6)[0, :, 0, 0].tolist() == [0, 0, 1, 1, 2, 2]
    assert match_channels(x, 2)[0, :, 0, 0].tolist() == [0, 1]
    layer = Flex2D(3, 6, 2, (4, 4), stride=2)
    assert layer(torch.randn(2, 3, 4, 4)).shape == (2, 6, 2, 2)


@pytest.mark.parametrize("ratio,share", [((1, 1), 0.5), ((3, 1), 0.75), ((1, 3), 0.25)])
@pytest.mark.parametrize("bn", [True, False])
def test_conv_pool_ratio_sets_the_initial_share_of_conv_units(ratio, share, bn):
    torch.manual_seed(1)
    layer = Flex2D(8, 8, 2, (16, 16), stride=2, masking="STE", logits_bn=bn, conv_pool_ratio=ratio).train()
    layer(torch.randn(64, 8, 16, 16))
    # Without BN the threshold is calibrated on this batch: exact up to one sample per unit.
    assert layer.conv_ratio() == pytest.approx(share, abs=0.02 if not bn else 0.05)
    assert bool(layer.calibrated)
    state = layer.state_dict()
    assert "calibrated" in state and "threshold" in state


def test_epoch_stats_accumulate_training_forwards_only_and_reset():
    layer = Flex2D(2, 2, 2, (4, 4), stride=2, masking="STE", logits_bn=False)
    layer.train()
    for _ in range(3):
        layer(torch.randn(4, 2, 4, 4))
    layer.eval()
    layer(torch.full((4, 2, 4, 4), 1e6))  # all conv: would pull the ratio up if counted
    row = flex_epoch_stats(torch.nn.Sequential(layer))
    assert set(row) == {"flex1_conv_ratio", "flex1_binariness", "conv_ratio_target"}
    assert row["flex1_binariness"] == 1.0 and 0.3 < row["flex1_conv_ratio"] < 0.7
    assert row["conv_ratio_target"] == 0.5
    again = flex_epoch_stats(torch.nn.Sequential(layer))
    assert again["flex1_conv_ratio"] != again["flex1_conv_ratio"]  # NaN: nothing since the reset


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="masking"):
        Flex2D(2, 2, 2, (4, 4), masking="soft")
    with pytest.raises(ValueError, match="conv_pool_ratio"):
        Flex2D(2, 2, 2, (4, 4), conv_pool_ratio=(0, 0))
    with pytest.raises(ValueError, match="too small"):
        Flex2D(2, 2, 2, (1, 1), stride=2)
