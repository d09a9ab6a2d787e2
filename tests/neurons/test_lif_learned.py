"""Learnable beta and threshold: every engine path against snnTorch's Leaky(learn_beta, learn_threshold)."""

import pytest
import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate

from snncli.neurons import LIF, SURROGATES, LIFParams, lif_loop, lif_sequence

SNN_SURROGATE = {
    "fast_sigmoid": lambda: snn_surrogate.fast_sigmoid(slope=25),
    "atan": lambda: snn_surrogate.atan(alpha=2.0),
    "sigmoid": lambda: snn_surrogate.sigmoid(slope=25),
}


def leaky_reference(cur_seq, beta, threshold, surrogate="fast_sigmoid", T=None):
    """snnTorch's Leaky with learnable beta and threshold, stepped; returns (spikes, mems, leaky)."""
    lif = snn.Leaky(
        beta=beta.detach().clone(), threshold=threshold.detach().clone(), learn_beta=True, learn_threshold=True,
        spike_grad=SNN_SURROGATE[surrogate](),
    )
    mem = lif.reset_mem()
    spikes, mems = [], []
    for t in range(T or cur_seq.shape[0]):
        spk, mem = lif(cur_seq if T else cur_seq[t], mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems), lif


def ours(beta, threshold, surrogate="fast_sigmoid", **kw):
    b = torch.nn.Parameter(beta.detach().clone())
    th = torch.nn.Parameter(threshold.detach().clone())
    return b, th, LIFParams(b, th, surrogate, **kw)


def problem(seed, shape=(30, 6, 17), nonnegative=False):
    gen = torch.Generator().manual_seed(seed)
    if nonnegative:  # keeps U - theta > -1.7, where snnTorch's sigmoid surrogate (exp(-25 x)^2) stays finite
        cur = torch.rand(*shape, generator=gen) * 0.9
    else:
        cur = torch.randn(*shape, generator=gen) * 0.8 + 0.35
    w_spk, w_mem = torch.randn(2, *((shape[0], *shape) if len(shape) == 2 else shape), generator=gen)
    return cur, w_spk, w_mem


def close(a, b, scale=None):
    """Equal up to fp32 rounding of sums taken in another order (any CPU)."""
    scale = b.abs().max().item() if scale is None else scale
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * max(1.0, scale))


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("per_neuron", [False, True])
def test_exact_path_gradients_equal_snntorch(surrogate, per_neuron):
    cur, w_spk, w_mem = problem(0, nonnegative=surrogate == "sigmoid")
    shape = (17,) if per_neuron else ()
    gen = torch.Generator().manual_seed(9)
    beta0 = 0.8 + 0.15 * torch.rand(shape, generator=gen)
    thr0 = 0.7 + 0.5 * torch.rand(shape, generator=gen)
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    beta, thr, params = ours(beta0, thr0, surrogate)
    spk, mem = lif_sequence(a, params)
    ref_spk, ref_mem, leaky = leaky_reference(b, beta0, thr0, surrogate)
    assert 0.05 < ref_spk.mean() < 0.95
    assert torch.equal(spk, ref_spk)
    torch.testing.assert_close(mem, ref_mem)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    ((ref_spk * w_spk).sum() + (ref_mem * w_mem).sum()).backward()
    assert beta.grad.shape == beta0.shape and thr.grad.shape == thr0.shape
    assert beta.grad.abs().max() > 1e-2 and thr.grad.abs().max() > 1e-2
    close(a.grad, b.grad)
    close(beta.grad, leaky.beta.grad)
    close(thr.grad, leaky.threshold.grad)


@pytest.mark.parametrize("compact", [False, True])
def test_first_layer_once_gradients_equal_snntorch(compact):
    """Constant current (the layer before computed once) on the exact and the compact path."""
    gen = torch.Generator().manual_seed(1)
    cur = torch.rand(5, 11, generator=gen) * 0.6 + 0.2
    w = torch.randn(25, 5, 11, generator=gen)
    beta0, thr0 = torch.tensor(0.85), torch.tensor(0.9)
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    beta, thr, params = ours(beta0, thr0)
    spk, _ = lif_sequence(a, params, T=25, compact=compact)
    ref_spk, _, leaky = leaky_reference(b, beta0, thr0, T=25)
    assert torch.equal(spk, ref_spk)
    (spk * w).sum().backward()
    (ref_spk * w).sum().backward()
    if compact:  # bf16 surrogate factor and membrane: ~2^-8 relative per term
        for mine, ref in ((a.grad, b.grad), (beta.grad, leaky.beta.grad), (thr.grad, leaky.threshold.grad)):
            torch.testing.assert_close(mine, ref, rtol=2e-2, atol=1e-2 * ref.abs().max().item())
    else:
        close(a.grad, b.grad)
        close(beta.grad, leaky.beta.grad)
        close(thr.grad, leaky.threshold.grad)


@pytest.mark.parametrize("per_neuron", [False, True])
def test_compact_path_gradients_match_exact_up_to_bf16(per_neuron):
    cur, w_spk, _ = problem(2)
    shape = (17,) if per_neuron else ()
    beta0, thr0 = torch.full(shape, 0.9), torch.full(shape, 1.1)
    grads = []
    for compact in (False, True):
        a = cur.clone().requires_grad_()
        beta, thr, params = ours(beta0, thr0)
        spk, _ = lif_sequence(a, params, spike_dtype=torch.bfloat16 if compact else None, compact=compact)
        (spk.float() * w_spk).sum().backward()
        grads.append((spk.float(), a.grad, beta.grad, thr.grad))
    (s0, *g0), (s1, *g1) = grads
    assert torch.equal(s0, s1)
    for mine, ref in zip(g1, g0):
        assert mine.shape == ref.shape
        torch.testing.assert_close(mine, ref, rtol=2e-2, atol=1e-2 * ref.abs().max().item())


def test_step_reference_equals_snntorch():
    cur, w_spk, w_mem = problem(3, (20, 4, 9))
    beta0, thr0 = torch.tensor(0.8), torch.tensor(0.95)
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    beta, thr, params = ours(beta0, thr0)
    spk, mem = lif_loop(a, params)
    ref_spk, ref_mem, leaky = leaky_reference(b, beta0, thr0)
    assert torch.equal(spk, ref_spk)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    ((ref_spk * w_spk).sum() + (ref_mem * w_mem).sum()).backward()
    close(beta.grad, leaky.beta.grad)
    close(thr.grad, leaky.threshold.grad)


@pytest.mark.parametrize("beta_value", [1.3, -0.2])
def test_beta_outside_range_is_clamped_as_snntorch(beta_value):
    """snnTorch uses beta.clamp(0, 1) and leaves the parameter alone: its gradient is zero out of range."""
    cur, w_spk, w_mem = problem(4, (15, 3, 7))
    beta0, thr0 = torch.tensor(beta_value), torch.tensor(1.0)
    for compact in (False, True):
        beta, thr, params = ours(beta0, thr0)
        spk, mem = lif_sequence(cur, params, compact=compact)
        ref_spk, ref_mem, leaky = leaky_reference(cur, beta0, thr0)
        assert torch.equal(spk, ref_spk)
        (spk * w_spk).sum().backward()
        assert beta.grad.item() == 0.0
        assert thr.grad.abs().item() > 0.0


def test_space_only_gradients_match_the_detached_step_loop():
    cur, w_spk, w_mem = problem(5, (12, 4, 6))
    results = []
    for fn in (lif_sequence, lif_loop):
        a = cur.clone().requires_grad_()
        beta, thr, params = ours(torch.tensor(0.85), torch.tensor(0.9), through_time=False)
        spk, mem = fn(a, params)
        ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
        results.append((a.grad, beta.grad, thr.grad))
    for mine, ref in zip(*results):
        close(mine, ref)


def test_second_order_path_gives_the_same_first_derivatives_and_a_hessian():
    """create_graph=True takes the traced backward: its beta/threshold gradients equal the fast ones,
    and a second derivative w.r.t. beta matches finite differences."""
    cur, w_spk, w_mem = problem(6, (8, 2, 5))
    cur, w_spk, w_mem = cur.double(), w_spk.double(), w_mem.double()

    def loss(beta, thr):
        spk, mem = lif_sequence(cur, LIFParams(beta, thr, "atan"))
        return (spk * w_spk).sum() + 0.1 * (mem.pow(2) * w_mem).sum()

    beta, thr = torch.tensor(0.8, dtype=torch.float64, requires_grad=True), torch.tensor(0.9, dtype=torch.float64, requires_grad=True)
    fast = torch.autograd.grad(loss(beta, thr), (beta, thr))
    traced = torch.autograd.grad(loss(beta, thr), (beta, thr), create_graph=True)
    for f, t in zip(fast, traced):
        torch.testing.assert_close(f, t.detach())
    (h_bb,) = torch.autograd.grad(traced[0], beta)
    eps = 1e-6

    def d_beta(b):
        b = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        return torch.autograd.grad(loss(b, thr.detach()), b)[0]

    fd = (d_beta(0.8 + eps) - d_beta(0.8 - eps)) / (2 * eps)
    torch.testing.assert_close(h_bb, fd, rtol=1e-4, atol=1e-6)


def test_module_state_dict_and_repr():
    fixed = LIF(LIFParams(0.9, 1.0))
    assert dict(fixed.state_dict()) == {} and list(fixed.parameters()) == []
    learned = LIF(LIFParams(0.9, 1.0), learn_beta=True, learn_threshold=True, shape=(4,))
    assert set(learned.state_dict()) == {"beta", "threshold"}
    assert learned.beta.shape == (4,) and torch.all(learned.beta == 0.9)
    assert "learned(4,)" in repr(learned)
    spk, _ = learned(torch.randn(6, 2, 4) + 1.0)
    spk.sum().backward()
    assert learned.beta.grad.shape == (4,) and learned.threshold.grad.shape == (4,)
