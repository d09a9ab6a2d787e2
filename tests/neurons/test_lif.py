"""The fused LIF sequence against snnTorch's per-step Leaky: spikes, membranes and gradients."""

import pytest
import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate

from snncli.neurons import SURROGATES, LIFParams, lif_loop, lif_sequence

SNN_SURROGATE = {
    "fast_sigmoid": lambda: snn_surrogate.fast_sigmoid(slope=25),
    "atan": lambda: snn_surrogate.atan(alpha=2.0),
    "sigmoid": lambda: snn_surrogate.sigmoid(slope=25),
}


def snntorch_loop(cur_seq, beta, threshold, grad):
    lif = snn.Leaky(beta=beta, threshold=threshold, spike_grad=grad)
    mem = lif.reset_mem()
    spikes, mems = [], []
    for t in range(cur_seq.shape[0]):
        spk, mem = lif(cur_seq[t], mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems)


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("beta,threshold", [(0.9, 1.0), (0.5, 0.7)])
def test_fused_sequence_equals_snntorch_leaky(surrogate, beta, threshold):
    gen = torch.Generator().manual_seed(0)
    # float32, as snnTorch keeps beta as a float32 buffer: the rounding is then the same.
    cur = torch.randn(30, 6, 17, generator=gen) * 0.8 + 0.35
    w_spk, w_mem = torch.randn(2, *cur.shape, generator=gen)
    a = cur.clone().requires_grad_()
    b = cur.clone().requires_grad_()
    spk, mem = lif_sequence(a, LIFParams(beta, threshold, surrogate))
    ref_spk, ref_mem = snntorch_loop(b, beta, threshold, SNN_SURROGATE[surrogate]())
    assert 0.05 < ref_spk.mean() < 0.95, "test input must make the neurons fire sometimes"
    assert torch.equal(spk, ref_spk)
    torch.testing.assert_close(mem, ref_mem)
    ((spk * w_spk).sum() + (mem * w_mem).sum()).backward()
    ((ref_spk * w_spk).sum() + (ref_mem * w_mem).sum()).backward()
    # Sums over time run in another order than snnTorch's graph: equal to fp32 rounding.
    # snnTorch's sigmoid surrogate overflows to NaN far below threshold (exp(-k x) = inf); ours stays finite.
    assert torch.isfinite(a.grad).all()
    finite = torch.isfinite(b.grad)
    assert finite.float().mean() > 0.9
    torch.testing.assert_close(a.grad[finite], b.grad[finite], rtol=1e-4, atol=1e-5)


def test_constant_input_equals_repeated_sequence():
    gen = torch.Generator().manual_seed(1)
    cur = torch.rand(5, 11, generator=gen).double() * 0.6
    a = cur.clone().requires_grad_()
    b = cur.clone().requires_grad_()
    spk, mem = lif_sequence(a, LIFParams(), T=25)
    ref_spk, ref_mem = lif_sequence(b.expand(25, *b.shape), LIFParams())
    assert torch.equal(spk, ref_spk)
    w = torch.randn(spk.shape, generator=gen).double()
    (spk * w).sum().backward()
    (ref_spk * w).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_only_spikes_used_gives_same_grad_as_loop():
    gen = torch.Generator().manual_seed(2)
    cur = torch.randn(12, 4, 9, generator=gen) + 0.5
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    lif_sequence(a, LIFParams())[0].sum().backward()
    lif_loop(b, LIFParams())[0].sum().backward()
    torch.testing.assert_close(a.grad, b.grad)


def test_bf16_spike_dtype_is_exact():
    cur = torch.randn(8, 3, 5) + 1.0
    spk32, _ = lif_sequence(cur, LIFParams())
    spk16, _ = lif_sequence(cur, LIFParams(), spike_dtype=torch.bfloat16)
    assert spk16.dtype == torch.bfloat16
    assert torch.equal(spk16.float(), spk32)


@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
def test_second_derivative_matches_finite_differences(surrogate):
    """Hessian-vector products through the fused sequence (what `snn hessian` needs)."""
    gen = torch.Generator().manual_seed(3)
    x0 = (torch.randn(6, 2, 4, generator=gen) * 0.5 + 0.8).double()
    w, w2, v = torch.randn(3, *x0.shape, generator=gen).double()
    params = LIFParams(surrogate=surrogate)

    def loss(x):
        spk, mem = lif_sequence(x, params)
        return (spk * w).sum() + 0.1 * (mem.pow(2) * w2).sum()

    def grad_at(x):
        x = x.clone().requires_grad_()
        return torch.autograd.grad(loss(x), x)[0]

    x = x0.clone().requires_grad_()
    (g,) = torch.autograd.grad(loss(x), x, create_graph=True)
    (hv,) = torch.autograd.grad((g * v).sum(), x)
    eps = 1e-6
    fd = (grad_at(x0 + eps * v) - grad_at(x0 - eps * v)) / (2 * eps)
    assert hv.abs().max() > 1e-3, "the surrogate's second derivative must not vanish"
    torch.testing.assert_close(hv, fd, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("constant", [False, True])
def test_compact_mode_matches_exact_up_to_bf16_factor(constant):
    """Compact: two membrane rows, bf16 surrogate factor saved, chunked backward. Same spikes;
    gradients equal to the bf16 rounding of the surrogate factor."""
    gen = torch.Generator().manual_seed(4)
    shape = (7, 13) if constant else (30, 7, 13)
    cur = torch.randn(*shape, generator=gen) * 0.7 + 0.4
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    T = 30 if constant else None
    spk, mem = lif_sequence(a, LIFParams(), T=T, compact=True)
    ref, _ = lif_sequence(b, LIFParams(), T=T)
    assert mem is None
    assert torch.equal(spk, ref)
    w = torch.randn(ref.shape, generator=gen)
    (spk * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=2e-2, atol=1e-3 * b.grad.abs().max().item())
    with pytest.raises(RuntimeError, match="precision fp32"):
        x = cur.clone().requires_grad_()
        (g,) = torch.autograd.grad((lif_sequence(x, LIFParams(), T=T, compact=True)[0] * w).sum(), x, create_graph=True)


@pytest.mark.parametrize("constant", [False, True])
def test_space_only_gradient_drops_exactly_the_temporal_term(constant):
    """Without STBP each step keeps only its own term: G_t(space) = G_t(STBP) - beta * G_{t+1}(STBP)."""
    gen = torch.Generator().manual_seed(3)
    beta = 0.8
    cur = torch.randn(9, 4, 11, generator=gen) * 0.8 + 0.5
    if constant:
        cur = cur[0]
    w = torch.randn(9, 4, 11, generator=gen)
    grads, spikes = [], []
    for through_time in (True, False):
        a = cur.clone().requires_grad_()
        spk, _ = lif_sequence(a, LIFParams(beta, 1.0, through_time=through_time), T=9 if constant else None)
        (spk * w).sum().backward()
        grads.append(a.grad)
        spikes.append(spk)
    assert torch.equal(spikes[0], spikes[1])  # the forward pass is the same
    assert 0.05 < spikes[0].mean() < 0.95
    if constant:  # the step currents are one tensor: compare with the per-step reference below
        assert not torch.allclose(grads[0], grads[1])
        ref = cur.clone().requires_grad_()
        r_spk, _ = lif_loop(ref, LIFParams(beta, 1.0, through_time=False), T=9)
        (r_spk * w).sum().backward()
        torch.testing.assert_close(grads[1], ref.grad, rtol=1e-4, atol=1e-4)
        return
    stbp, space = grads
    torch.testing.assert_close(space[:-1], stbp[:-1] - beta * stbp[1:], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(space[-1], stbp[-1])
    assert (stbp[:-1] - space[:-1]).abs().max() > 1e-3  # the temporal term was really there


def test_space_only_gradient_matches_the_detached_step_loop_and_is_twice_differentiable():
    gen = torch.Generator().manual_seed(4)
    cur = torch.randn(7, 3, 5, generator=gen) * 0.8 + 0.5
    params = LIFParams(0.9, 1.0, through_time=False)
    a, b = cur.clone().requires_grad_(), cur.clone().requires_grad_()
    w = torch.randn(7, 3, 5, generator=gen)
    (g_a,) = torch.autograd.grad((lif_sequence(a, params)[0] * w).sum(), a, create_graph=True)
    (g_b,) = torch.autograd.grad((lif_loop(b, params)[0] * w).sum(), b, create_graph=True)
    torch.testing.assert_close(g_a, g_b, rtol=1e-5, atol=1e-6)
    (h_a,) = torch.autograd.grad((g_a**2).sum(), a)
    (h_b,) = torch.autograd.grad((g_b**2).sum(), b)
    torch.testing.assert_close(h_a, h_b, rtol=1e-4, atol=1e-5)
