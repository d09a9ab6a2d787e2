"""G2G topology: per-layer groupings, and how far groups mix (index vs random vs mixer)."""

import pytest
import torch

from snncli.models import create_model
from snncli.sparsity import g2g_groupings, group_ids, intra_group_coverage, layer_sides, path_coverage


@pytest.mark.parametrize("side", ["contiguous", "interleaved", "random"])
@pytest.mark.parametrize("n", [784, 1000, 10])
def test_group_ids_are_balanced(side, n):
    ids = group_ids(n, 8, side, torch.Generator().manual_seed(0))
    counts = torch.bincount(ids, minlength=8)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n


def test_sides_per_rule():
    assert [layer_sides("index", i) for i in range(3)] == [("contiguous", "contiguous")] * 3
    assert [layer_sides("mixer", i) for i in range(3)] == [
        ("contiguous", "contiguous"), ("interleaved", "interleaved"), ("contiguous", "contiguous")]
    assert layer_sides("random", 1) == ("random", "random")
    with pytest.raises(ValueError, match="choose from"):
        layer_sides("blocks", 0)


def test_random_draws_each_side_of_each_layer_independently():
    g = g2g_groupings([784, 512, 512, 512], "random", 8, torch.Generator().manual_seed(0))
    # The population between layers 0 and 1 is grouped twice, differently.
    assert not torch.equal(g[0].post, g[1].pre)
    assert not torch.equal(g[1].post, g[2].pre)


@pytest.mark.parametrize("name,low,high", [("index", 0.125, 0.125), ("random", 0.99, 1.0), ("mixer", 0.99, 1.0)])
def test_intra_group_path_coverage_from_input_to_second_hidden_layer(name, low, high):
    """At p_inter 0 only intra-group connections exist: index keeps 8 disjoint columns (1/G of the
    pairs joined), random and mixer let every input group reach (nearly) every second-layer unit."""
    model = create_model(name, in_shape=(1, 28, 28), hidden_dim=1024, p_inter=0.0)
    measured = path_coverage([layer.mask for layer in model.layers[:2]])
    assert low - 1e-9 <= measured <= high + 1e-9
    assert model.mixing() == pytest.approx(measured, abs=1e-6)  # the group-level figure snn train reports


def test_the_three_rules_draw_different_masks():
    masks = {n: [l.mask for l in create_model(n, hidden_dim=256, p_inter=0.0).layers[:3]] for n in ("index", "random", "mixer")}
    for a, b in [("index", "random"), ("index", "mixer"), ("random", "mixer")]:
        assert any(not torch.equal(x, y) for x, y in zip(masks[a], masks[b]))
    # Mixer's second layer is interleaved: hidden unit 0 reads units 0, 8, 16, ... of the first layer.
    second = masks["mixer"][1]
    assert second[0, ::8].all() and not second[0, 1::8].any()


def test_coverage_at_p_inter_is_higher_than_intra_only_and_masks_are_buffers():
    model = create_model("index", hidden_dim=256, p_inter=0.15)
    assert path_coverage([l.mask for l in model.layers[:2]]) > 0.99  # inter-group links join the columns
    assert model.mixing() == pytest.approx(0.125)  # the grouping itself does not mix
    state = model.state_dict()
    assert "layers.0.mask" in state and "layers.0.pre_groups" not in state


def test_intra_group_coverage_depth_one_is_one_over_g():
    g = g2g_groupings([80, 64], "random", 4, torch.Generator().manual_seed(1))
    assert intra_group_coverage(g, 1) == pytest.approx(0.25)
