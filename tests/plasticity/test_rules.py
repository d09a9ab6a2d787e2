"""Every plasticity rule against updates computed by hand on tiny tensors."""

import math

import pytest
import torch

from snncli.plasticity import get_rule, list_rules, pair_window, traces

ETA = 0.5


def seq(*steps):
    """[T, B=1, N] from per-step lists."""
    return torch.tensor(steps, dtype=torch.float32)[:, None, :]


def test_registry_lists_the_rules_and_refuses_unknown_names():
    assert list_rules() == ["anti-hebb", "hebb", "hebb-anti-hebb", "oja", "stdp"]
    with pytest.raises(ValueError, match="choose from anti-hebb, hebb, hebb-anti-hebb, oja, stdp"):
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


# The seed's rule on a hand-worked example: T = 2, B = 2, two inputs (constant currents, one of them
# negative, as normalised pixels are), two post-synaptic neurons, lambda = 0.5, eta = 0.1.
#   sample 1: x = [1, -0.5], post spikes t0 [1, 0], t1 [1, 1] -> y = [1, 0.5],  ybar = 0.75
#   sample 2: x = [0,  2  ], post spikes t0 [0, 0], t1 [0, 1] -> y = [0, 0.5],  ybar = 0.25
# Hebbian <x_i y_j>:        j=0: [(1 + 0)/2, (-0.5 + 0)/2] = [0.5, -0.25]
#                           j=1: [(0.5 + 0)/2, (-0.25 + 1)/2] = [0.25, 0.375]
# anti-Hebbian <x_i ybar>:  [(0.75 + 0)/2, (-0.375 + 0.5)/2] = [0.375, 0.0625] (same for every j)
# dW = eta (Hebbian - 0.5 anti): j=0: [0.3125, -0.28125], j=1: [0.0625, 0.34375], times eta.
SEED_PRE = torch.tensor([[[1.0, -0.5], [0.0, 2.0]]] * 2)              # [T=2, B=2, 2], constant over T
SEED_POST = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]]])  # [T=2, B=2, 2]


def test_hebb_anti_hebb_matches_the_hand_computed_update():
    dw = get_rule("hebb-anti-hebb")(SEED_PRE, SEED_POST, torch.zeros(2, 2), 0.1, lambda_ltd=0.5)
    expected = 0.1 * torch.tensor([[0.3125, -0.28125], [0.0625, 0.34375]])
    assert torch.allclose(dw, expected, rtol=0, atol=1e-7)


def test_hebb_anti_hebb_anti_term_is_lambda_eta_x_times_the_layer_mean_rate_for_every_post_neuron():
    rule = get_rule("hebb-anti-hebb")
    hebbian = rule(SEED_PRE, SEED_POST, torch.zeros(2, 2), 0.1, lambda_ltd=0.0)
    assert torch.allclose(hebbian, 0.1 * torch.tensor([[0.5, -0.25], [0.25, 0.375]]), rtol=0, atol=1e-7)
    assert torch.equal(hebbian, get_rule("hebb")(SEED_PRE, SEED_POST, torch.zeros(2, 2), 0.1))
    depression = hebbian - rule(SEED_PRE, SEED_POST, torch.zeros(2, 2), 0.1, lambda_ltd=1.0)
    assert torch.allclose(depression, 0.1 * torch.tensor([[0.375, 0.0625]] * 2), rtol=0, atol=1e-7)


def test_hebb_anti_hebb_is_the_mean_of_the_per_sample_updates():
    gen = torch.Generator().manual_seed(0)
    pre, post = torch.randn(1, 6, 5, generator=gen).expand(4, 6, 5), (torch.rand(4, 6, 3, generator=gen) < 0.3).float()
    rule, w = get_rule("hebb-anti-hebb"), torch.zeros(3, 5)
    # ybar is each sample's own layer mean (a batch-wide mean would not split into per-sample updates).
    per_sample = torch.stack([rule(pre[:, b:b + 1], post[:, b:b + 1], w, 1e-3) for b in range(6)]).mean(0)
    assert torch.allclose(rule(pre, post, w, 1e-3), per_sample, atol=1e-9)


def test_pair_window_of_stdp_is_its_exponential_window_and_rate_rules_are_flat():
    lam = math.exp(-1 / 5.0)
    window = pair_window(get_rule("stdp"), [-3, -1, 0, 1, 4])
    expected = torch.tensor([-1.05 * lam**3, -1.05 * lam, 1.0, lam, lam**4])
    assert torch.allclose(window, expected, atol=1e-6)
    assert torch.allclose(pair_window(get_rule("stdp"), [2, -2], tau=10.0, a_plus=2.0, a_minus=0.5),
                          torch.tensor([2 * math.exp(-0.2), -0.5 * math.exp(-0.2)]), atol=1e-6)
    flat = pair_window(get_rule("hebb"), [-2, 0, 3])
    assert torch.allclose(flat, flat[0].expand(3))


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
