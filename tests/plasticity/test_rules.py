"""Every plasticity rule against updates computed by hand on tiny tensors."""

import math

import pytest
import torch

from snncli.plasticity import get_rule, list_rules, traces

ETA = 0.5


def seq(*steps):
    """[T, B=1, N] from per-step lists."""
    return torch.tensor(steps, dtype=torch.float32)[:, None, :]


def test_registry_lists_the_four_rules_and_refuses_unknown_names():
    assert list_rules() == ["anti-hebb", "hebb", "oja", "stdp"]
    with pytest.raises(ValueError, match="choose from anti-hebb, hebb, oja, stdp"):
        get_rule("bcm")


@pytest.mark.parametrize("name", list_rules())
def test_every_rule_returns_a_change_of_the_weights_shape_and_no_change_without_activity(name):
    rule = get_rule(name)
    w = torch.randn(3, 4)
    pre, post = torch.rand(5, 2, 4).round(), torch.rand(5, 2, 3).round()
    assert rule(pre, post, w, ETA).shape == w.shape
    silent = torch.zeros(5, 2, 3)
    assert torch.equal(rule(pre, silent, w, ETA), torch.zeros_like(w))


def test_hebb_is_eta_times_the_batch_mean_of_rate_products():
    # Sample 1: pre counts [2, 1], post count [3]; sample 2: pre [0, 1], post [1]; rates = counts / T.
    pre = torch.tensor([[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]])  # [T=2, B=2, 2]
    post = torch.tensor([[[1.0], [1.0]], [[2.0], [0.0]]])                     # counts 3 and 1
    expected = ETA * torch.tensor([[(3 * 2 + 1 * 0) / 2, (3 * 1 + 1 * 1) / 2]]) / 2**2
    assert torch.allclose(get_rule("hebb")(pre, post, torch.zeros(1, 2), ETA), expected)


def test_anti_hebb_is_hebb_with_the_opposite_sign():
    pre, post, w = torch.rand(4, 3, 5).round(), torch.rand(4, 3, 2).round(), torch.randn(2, 5)
    hebb, anti = get_rule("hebb")(pre, post, w, ETA), get_rule("anti-hebb")(pre, post, w, ETA)
    assert (hebb >= 0).all() and hebb.sum() > 0
    assert torch.equal(anti, -hebb)


def test_oja_subtracts_the_squared_post_rate_times_the_weight():
    pre, post = seq([1.0, 0.0], [1.0, 1.0]), seq([1.0], [1.0])  # x = [1, 0.5], y = 1
    w = torch.tensor([[0.5, -1.0]])
    expected = ETA * (torch.tensor([[1 * 1, 1 * 0.5]]) - 1 * w)
    assert torch.allclose(get_rule("oja")(pre, post, w, ETA), expected)


def test_oja_drives_a_linear_neurons_weight_norm_to_one():
    gen = torch.Generator().manual_seed(0)
    for start in (0.1, 3.0):  # from below and from above
        w = torch.randn(1, 6, generator=gen)
        w = start * w / w.norm()
        for _ in range(3000):
            x = torch.randn(1, 8, 6, generator=gen) * torch.tensor([2.0, 1, 1, 0.5, 0.5, 0.2])
            y = x @ w.t()
            w = w + get_rule("oja")(x, y, w, 0.01)
        assert w.norm().item() == pytest.approx(1.0, abs=0.05), start


def test_traces_decay_and_add():
    z = traces(seq([1.0], [0.0], [1.0]), 0.5)
    assert z.flatten().tolist() == [1.0, 0.5, 1.25]


@pytest.mark.parametrize("d", [1, 2, 3])
def test_stdp_potentiates_pre_before_post_and_depresses_post_before_pre(d):
    lam = math.exp(-1 / 5.0)
    T = d + 2
    first, second = [0.0] * T, [0.0] * T
    first[0], second[d] = 1.0, 1.0
    early, late = seq(*[[v] for v in first]), seq(*[[v] for v in second])
    w = torch.zeros(1, 1)
    ltp = get_rule("stdp")(early, late, w, ETA, tau=5.0, a_plus=1.0, a_minus=2.0)   # pre at 0, post at d
    ltd = get_rule("stdp")(late, early, w, ETA, tau=5.0, a_plus=1.0, a_minus=2.0)   # post at 0, pre at d
    assert ltp.item() == pytest.approx(ETA * 1.0 * lam**d / T)  # averaged over the T steps
    assert ltd.item() == pytest.approx(-ETA * 2.0 * lam**d / T)


def test_stdp_counts_simultaneous_spikes_as_causal():
    both = seq([1.0], [0.0])
    assert get_rule("stdp")(both, both, torch.zeros(1, 1), ETA).item() == pytest.approx(ETA / 2)
