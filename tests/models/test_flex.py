"""The Flex layer: routing arithmetic, the seed's pool geometry and channel matching, initial conv ratio, logged statistics."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models.flex import Flex2D, flex_epoch_stats, interpolate_channels
from snncli.models.routing import make_mask


@pytest.mark.parametrize("masking", ["SIGMOID_HARD", "SIGMOID_SOFT", "STE", "SIGMOID_MUL"])
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
    assert layer.seed_binariness() == pytest.approx(((mask - 0.5).abs() * 2).mean().item(), abs=1e-6)
    if masking == "STE":
        assert layer.binariness() == 1.0 and layer.seed_binariness() == 1.0


def test_the_seeds_3x3_layer_pools_3x3_stride_1_padded_and_interpolates_channels():
    """A 3x3 stride-1 Flex layer (the seed's at every VGG conv): a -inf-padded 3x3 max-pool, channels interpolated."""
    torch.manual_seed(0)
    layer = Flex2D(3, 8, 3, (6, 6), stride=1, padding=1, masking="STE", logits_bn=False).eval()
    x = torch.randn(2, 3, 6, 6) - 5.0  # all negative: zero padding would win the border maxima
    with torch.no_grad():
        layer.threshold.fill_(1e6)  # every unit routed to the pool
    out = layer(x)
    assert out.shape == (2, 8, 6, 6)
    pool = F.max_pool2d(F.pad(x, (1, 1, 1, 1), value=float("-inf")), 3, 1)
    torch.testing.assert_close(out, interpolate_channels(pool, 8))
    assert layer.conv_ratio() == 0.0


@pytest.mark.parametrize("c_in,c_out", [(3, 8), (64, 128), (8, 3), (5, 5), (1, 4)])
def test_channel_interpolation_is_the_seeds_bilinear_resize_along_channels(c_in, c_out):
    """The seed resizes [B, H, C, W] bilinearly to [B, H, C_out, W] (align_corners=False): the reference here."""
    x = torch.randn(2, c_in, 3, 4, dtype=torch.float64)
    reference = F.interpolate(x.permute(0, 2, 1, 3), [c_out, x.shape[3]], mode="bilinear").permute(0, 2, 1, 3)
    torch.testing.assert_close(interpolate_channels(x, c_out), reference)


def test_channel_interpolation_values_on_a_ramp():
    x = torch.arange(3.0).view(1, 3, 1, 1)
    # Output j reads position (j + 0.5) * 3/6 - 0.5 = -0.25, 0.25, 0.75, ...: clamped at the ends.
    assert interpolate_channels(x, 6).flatten().tolist() == pytest.approx([0, 0.25, 0.75, 1.25, 1.75, 2])
    assert interpolate_channels(x, 3) is x


def test_none_is_the_plain_convolution():
    layer = Flex2D(3, 5, 2, (6, 6), stride=2, masking="NONE")
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(layer(x), layer.conv(x))
    assert layer.conv_ratio() == 1.0 and layer.binariness() == 1.0 and layer.seed_binariness() == 1.0
    assert layer.logits is None and layer.bn is None


@pytest.mark.parametrize("ratio,share", [((1, 1), 0.5), ((3, 1), 0.75), ((1, 3), 0.25)])
@pytest.mark.parametrize("bn", [True, False])
def test_conv_pool_ratio_sets_the_initial_share_of_conv_units(ratio, share, bn):
    torch.manual_seed(1)
    layer = Flex2D(8, 8, 2, (16, 16), stride=2, masking="STE", logits_bn=bn, conv_pool_ratio=ratio).train()
    layer(torch.randn(64, 8, 16, 16))
    # Without BN the threshold is calibrated on this batch: exact up to one sample per unit.
    assert layer.conv_ratio() == pytest.approx(share, abs=0.02 if not bn else 0.05)


def test_epoch_stats_accumulate_training_forwards_only_and_reset():
    layer = Flex2D(2, 2, 2, (4, 4), stride=2, masking="STE", logits_bn=False)
    layer.train()
    for _ in range(3):
        layer(torch.randn(4, 2, 4, 4))
    layer.eval()
    layer(torch.full((4, 2, 4, 4), 1e6))  # all conv: would pull the ratio up if counted
    row = flex_epoch_stats(torch.nn.Sequential(layer))
    assert set(row) == {"flex1_conv_ratio", "flex1_binariness", "flex1_seed_binariness", "flex_mean_conv_ratio",
                        "flex_mean_binariness", "flex_mean_seed_binariness", "conv_ratio_target"}
    assert row["flex1_binariness"] == 1.0 and row["flex1_seed_binariness"] == 1.0 and 0.3 < row["flex1_conv_ratio"] < 0.7
    assert row["conv_ratio_target"] == 0.5 and row["flex_mean_conv_ratio"] == row["flex1_conv_ratio"]
    again = flex_epoch_stats(torch.nn.Sequential(layer))
    assert again["flex1_conv_ratio"] != again["flex1_conv_ratio"]  # NaN: nothing since the reset


def test_epoch_means_are_unweighted_over_layers():
    a = Flex2D(2, 2, 2, (4, 4), stride=2, masking="SIGMOID_SOFT", logits_bn=False).train()
    b = Flex2D(2, 2, 2, (8, 8), stride=2, masking="SIGMOID_SOFT", logits_bn=False).train()
    a(torch.randn(4, 2, 4, 4))
    b(torch.randn(4, 2, 8, 8))
    ra, rb = a.epoch_stats(reset=False), b.epoch_stats(reset=False)
    row = flex_epoch_stats(torch.nn.ModuleList([a, b]))
    for key in ("conv_ratio", "binariness", "seed_binariness"):
        assert row[f"flex_mean_{key}"] == pytest.approx((ra[key] + rb[key]) / 2, abs=1e-5)


def test_old_checkpoints_with_the_threshold_on_the_layer_still_load():
    layer = Flex2D(2, 2, 2, (4, 4), stride=2)
    state = layer.state_dict()
    state["threshold"] = state.pop("logits.threshold") + 1.5
    fresh = Flex2D(2, 2, 2, (4, 4), stride=2)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.threshold, torch.full_like(fresh.threshold, 1.5))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="masking"):
        Flex2D(2, 2, 2, (4, 4), masking="soft")
    with pytest.raises(ValueError, match="logits"):
        Flex2D(2, 2, 2, (4, 4), logits="UNET")
    with pytest.raises(ValueError, match="joint"):
        Flex2D(2, 2, 2, (4, 4), joint="SUM")
    with pytest.raises(ValueError, match="conv_pool_ratio"):
        Flex2D(2, 2, 2, (4, 4), conv_pool_ratio=(0, 0))
    with pytest.raises(ValueError, match="too small"):
        Flex2D(2, 2, 2, (1, 1), stride=2)
    with pytest.raises(ValueError, match="threshold"):
        Flex2D(2, 2, 2, (4, 4), threshold="fixed")
