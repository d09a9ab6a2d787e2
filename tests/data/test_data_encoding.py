"""Spike encoders."""

from __future__ import annotations

import pytest
import torch

from snncli.data import ENCODINGS, encode


def test_encodings_tuple():
    assert ENCODINGS == ("current", "rate")


@pytest.mark.parametrize(("scale", "bias"), [(1.0, 0.0), (2.5, -0.3)])
def test_current_is_the_affine_input_at_every_step(scale, bias):
    x = torch.rand(4, 1, 3, 3)
    seq = encode(x, T=6, kind="current", scale=scale, bias=bias)
    assert seq.shape == (6, 4, 1, 3, 3)
    for t in range(6):
        torch.testing.assert_close(seq[t], x * scale + bias)
    assert seq.stride(0) == 0  # one copy shared by all steps, not T copies


def test_current_passes_gradients():
    x = torch.rand(2, 5, requires_grad=True)
    encode(x, T=3, scale=2.0).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 6.0))


def test_rate_spikes_have_the_right_rate():
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    seq = encode(p.expand(8, 5), T=500, kind="rate", generator=torch.Generator().manual_seed(0))
    assert seq.shape == (500, 8, 5) and seq.dtype == torch.float32
    assert set(seq.unique().tolist()) <= {0.0, 1.0}
    rate = seq.mean(dim=(0, 1))
    torch.testing.assert_close(rate, p, atol=0.02, rtol=0)
    assert rate[0] == 0 and rate[-1] == 1


def test_rate_clamps_the_scaled_input():
    x = torch.tensor([0.2, 0.5, 0.8])
    seq = encode(x, T=50, kind="rate", scale=4.0, bias=-1.5)  # p = clamp(-0.7, 0.5, 1.7)
    assert seq[:, 0].eq(0).all() and seq[:, 2].eq(1).all()
    assert 0 < seq[:, 1].mean() < 1


def test_rate_is_reproducible_with_a_generator():
    x = torch.rand(3, 4)
    a = encode(x, 10, "rate", generator=torch.Generator().manual_seed(5))
    b = encode(x, 10, "rate", generator=torch.Generator().manual_seed(5))
    c = encode(x, 10, "rate", generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_rate_has_a_straight_through_gradient():
    x = torch.tensor([0.3, 0.6, 1.4], requires_grad=True)
    encode(x, T=4, kind="rate", scale=1.0).sum().backward()
    # d spikes / d p = 1 per step inside the clamp, 0 where the clamp saturates.
    torch.testing.assert_close(x.grad, torch.tensor([4.0, 4.0, 0.0]))


def test_integer_input_is_promoted():
    seq = encode(torch.tensor([0, 1]), T=2, kind="rate")
    assert seq.dtype == torch.float32 and seq.tolist() == [[0.0, 1.0], [0.0, 1.0]]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="current, rate"):
        encode(torch.rand(2), T=3, kind="latency")
    with pytest.raises(ValueError, match="T must"):
        encode(torch.rand(2), T=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_rate_on_gpu():
    x = torch.full((64, 64), 0.25, device="cuda")
    seq = encode(x, 20, "rate", generator=torch.Generator(device="cuda").manual_seed(0))
    assert seq.is_cuda and abs(seq.mean().item() - 0.25) < 0.01
