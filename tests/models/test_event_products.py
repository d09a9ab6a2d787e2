"""Event-driven (spike-sparse) products equal the dense ones to floating-point rounding."""

import pytest
import torch
import torch.nn.functional as F

from snncli.models import MaskedLinear, create_model
from snncli.neurons import events as event_kernels
from snncli.neurons import spike_rate

pytestmark = pytest.mark.skipif(
    not event_kernels.available(torch.zeros(1)), reason="native kernels unavailable (no C compiler)"
)


@pytest.mark.parametrize("spike_dtype,out_dtype", [(torch.float32, torch.float32), (torch.bfloat16, torch.bfloat16),
                                                   (torch.bfloat16, torch.float32)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n_out", [10, 70, 300])
def test_event_linear_equals_dense(spike_dtype, out_dtype, masked, n_out):
    gen = torch.Generator().manual_seed(0)
    n_in = 300  # n_out 10: a readout (thin input gradient); 70: one partial column tile; 300: several tiles
    mask = (torch.rand(n_out, n_in, generator=gen) < 0.3).float() if masked else None
    layer = MaskedLinear(n_in, n_out, mask)
    spikes = (torch.rand(6, 9, n_in, generator=gen) < 0.05).to(spike_dtype).requires_grad_()
    g = torch.randn(6, 9, n_out, generator=gen).to(out_dtype)
    ref_in = spikes.detach().float().requires_grad_()
    out = layer(spikes, out_dtype, binary=True, events=True)
    assert out.dtype == out_dtype and out.shape == (6, 9, n_out)
    (dx, dw, db) = torch.autograd.grad((out.float() * g.float()).sum(), (spikes, layer.weight, layer.bias))
    ref = F.linear(ref_in, layer.effective_weight(), layer.bias)
    (rdx, rdw, rdb) = torch.autograd.grad((ref * g.float()).sum(), (ref_in, layer.weight, layer.bias))
    # fp32 sums of the (possibly bf16-rounded) weights, rounded once to the output dtype
    w_err = 0.0 if out_dtype == torch.float32 else 2**-8
    bound = (w_err + 1e-6) * (spikes.detach().float() @ layer.effective_weight().abs().t() + layer.bias.abs()) + (
        2**-8 if out_dtype == torch.bfloat16 else 1e-6) * ref.abs()
    assert ((out.float() - ref).abs() <= bound + 1e-7).all()
    scale = rdw.abs().max().item()
    torch.testing.assert_close(dw, rdw, rtol=1e-2 if out_dtype == torch.bfloat16 else 1e-5, atol=1e-5 * scale)
    if masked:
        assert torch.all(dw[mask == 0] == 0)
    torch.testing.assert_close(db, rdb, rtol=1e-5, atol=1e-5 * rdb.abs().max().item())
    assert dx.dtype == spike_dtype
    torch.testing.assert_close(dx.float(), rdx, rtol=1e-2, atol=1e-2 * rdx.abs().max().item())


def test_no_events_and_all_events():
    layer = MaskedLinear(40, 20)
    for spikes in (torch.zeros(3, 5, 40), torch.ones(3, 5, 40)):
        spikes.requires_grad_()
        out = layer(spikes, None, binary=True, events=True)
        torch.testing.assert_close(out, F.linear(spikes, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
        out.sum().backward()


def _grid_model(max_rate):
    """dense, bf16, weights on a 1/16 grid: every sum is exact, so both paths see identical currents."""
    torch.manual_seed(0)
    model = create_model("dense", in_shape=(1, 6, 6), num_classes=5, hidden_dim=256, hidden_layers=2, T=12,
                         learn_beta=True, learn_threshold=True)
    model.set_precision("bf16")
    model.event_max_rate = max_rate
    with torch.no_grad():
        for layer in model.layers:
            layer.weight.copy_((layer.weight * 3.0 * 16).round().clamp(-4, 4) / 16)
            layer.bias.fill_(1 / 16)
    return model


def test_fp32_events_network_equals_the_fp32_network():
    """--precision fp32-events: the same spikes as the exact fp32 network (weights on a 1/16 grid keep
    every sum exact), hidden layers on events, and the gradients of fp32's to rounding; fp32 stays dense."""
    x = torch.rand(16, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 5
    results = []
    for precision in ("fp32", "fp32-events"):
        model = _grid_model(None)
        model.set_precision(precision)
        if precision == "fp32-events":
            assert model.event_max_rate == event_kernels.FP32_MAX_RATE and not model.compact
            model.event_max_rate = 1.0  # every hidden layer on events, whatever its rate
        out = model(x.expand(12, *x.shape), record=True)
        (F.cross_entropy(out.mem.sum(0), y) + out.rates[1]).backward()
        results.append((out, {k: p.grad.clone() for k, p in model.named_parameters()},
                        [layer.last_product for layer in model.layers]))
    (exact, g_exact, p_exact), (event, g_event, p_event) = results
    assert p_exact == ["dense"] * 3 and p_event == ["dense", "events", "events"]
    for a, b in zip(exact.hidden, event.hidden):
        assert 0.01 < a.float().mean() < 0.9 and a.dtype == b.dtype == torch.float32
        assert torch.equal(a, b)
    torch.testing.assert_close(event.mem, exact.mem, rtol=1e-6, atol=1e-6)
    for k in g_exact:
        torch.testing.assert_close(g_event[k], g_exact[k], rtol=1e-5, atol=1e-6 * g_exact[k].abs().max().item())
    with pytest.raises(ValueError, match="unknown precision"):
        model.set_precision("fp16")


def test_network_with_event_products_equals_dense_products():
    x = torch.rand(16, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 5
    results = []
    for max_rate in (None, 1.0):
        model = _grid_model(max_rate)
        out = model(x.expand(12, *x.shape), record=True)
        (F.cross_entropy(out.mem.sum(0), y) + out.rates[1]).backward()
        results.append((out, {k: p.grad.clone() for k, p in model.named_parameters()}, list(model.last_event_layers)))
    (dense, g_dense, ev_dense), (event, g_event, ev_event) = results
    # the 5-class readout takes the thin kernels where events are off
    assert ev_dense == [False, False, False] and ev_event == [False, True, True]
    assert [layer.last_product for layer in model.layers] == ["dense", "events", "events"]
    for a, b in zip(dense.hidden, event.hidden):
        assert 0.01 < a.float().mean() < 0.9
        assert torch.equal(a, b)
    for k in g_dense:
        torch.testing.assert_close(g_event[k], g_dense[k], rtol=1e-2, atol=1e-3 * g_dense[k].abs().max().item())


def test_layers_choose_events_by_the_measured_rate():
    model = _grid_model(None)
    x = torch.rand(16, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    out = model(x.expand(12, *x.shape))
    r1, r2 = out.rates[0].item(), out.rates[1].item()
    model.event_max_rate = (r1 + r2) / 2 if r1 != r2 else r1 + 1e-3
    model(x.expand(12, *x.shape))
    assert model.last_event_layers == [False, r1 < model.event_max_rate, r2 < model.event_max_rate]
    assert model.layers[2].last_product == ("events" if r2 < model.event_max_rate else "thin")
    model.set_precision("fp32")  # exact, twice-differentiable mode: always dense
    model(x.expand(12, *x.shape))
    assert model.last_event_layers == [False, False, False]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_spike_rate_is_the_mean_and_differentiable(dtype):
    spk = (torch.rand(7, 3, 50, generator=torch.Generator().manual_seed(2)) < 0.2).to(dtype).requires_grad_()
    rate = spike_rate(spk)
    assert rate.dtype == torch.float32
    assert rate.item() == pytest.approx(spk.detach().float().mean().item(), rel=1e-6)
    (g,) = torch.autograd.grad(rate * 3.0, spk)
    assert torch.allclose(g.float(), torch.full(spk.shape, 3.0 / spk.numel()), rtol=1e-2)


@pytest.mark.parametrize("spike_dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("n_in,n_out", [(300, 10), (37, 1), (64, 16)])
def test_thin_readout_equals_dense(spike_dtype, n_in, n_out):
    """A narrow readout (<= THIN_MAX outputs) over spike rows runs the thin kernels: the output, the
    spikes' gradient (in their dtype) and the weight/bias gradients equal fp32 F.linear to rounding."""
    gen = torch.Generator().manual_seed(3)
    layer = MaskedLinear(n_in, n_out)
    spikes = (torch.rand(5, 7, n_in, generator=gen) < 0.2).to(spike_dtype).requires_grad_()  # 35 rows: not a multiple of 4
    g = torch.randn(5, 7, n_out, generator=gen)
    out = layer(spikes, None, binary=True)
    assert out.grad_fn.name() == "_ThinLinearBackward" and out.dtype == torch.float32
    dx, dw, db = torch.autograd.grad((out * g).sum(), (spikes, layer.weight, layer.bias))
    ref_in = spikes.detach().float().requires_grad_()
    ref = F.linear(ref_in, layer.weight, layer.bias)
    rdx, rdw, rdb = torch.autograd.grad((ref * g).sum(), (ref_in, layer.weight, layer.bias))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    assert dx.dtype == spike_dtype
    tol = 2**-8 if spike_dtype == torch.bfloat16 else 1e-5
    torch.testing.assert_close(dx.float(), rdx, rtol=tol, atol=tol * rdx.abs().max().item())
    torch.testing.assert_close(dw, rdw, rtol=1e-5, atol=1e-5 * rdw.abs().max().item())
    torch.testing.assert_close(db, rdb, rtol=1e-5, atol=1e-5)


def test_wide_outputs_and_analog_inputs_keep_the_blas_product():
    x = torch.rand(4, 300)
    assert MaskedLinear(300, 17)((x > 0.5).float(), None, binary=True).grad_fn.name() != "_ThinLinearBackward"
    assert MaskedLinear(300, 10)(x, None).grad_fn.name() == "AddmmBackward0"


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.bool])
@pytest.mark.parametrize("width", [1, 31, 32, 33, 100])
def test_spike_lists_are_the_nonzero_entries(dtype, width):
    spikes = (torch.rand(57, width, generator=torch.Generator().manual_seed(width)) < 0.3).to(dtype)
    rowptr, idx = event_kernels.events(spikes)
    nz = spikes.float().nonzero()
    assert torch.equal(idx.long(), nz[:, 1])
    assert torch.equal(rowptr.diff(), spikes.float().sum(1).long())


@pytest.mark.parametrize("rate", [0.002, 0.05])
def test_weight_gradient_scatter_and_column_gather_give_the_same_bits(rate):
    """The two weight-gradient kernels (chosen by rate) sum the same rows in the same order."""
    from snncli.neurons import _native

    gen = torch.Generator().manual_seed(7)
    spikes = (torch.rand(300, 90, generator=gen) < rate).to(torch.bfloat16)
    grad = torch.randn(300, 70, generator=gen).to(torch.bfloat16)
    rowptr, idx = event_kernels.events(spikes)
    colptr, rows = _native.columns(rowptr, idx, 90)
    assert torch.equal(colptr.diff(), spikes.float().sum(0).long())
    assert torch.equal(rows.long(), spikes.float().t().nonzero()[:, 1])
    by_columns = _native.events_weight_grad_by_columns(rowptr, idx, 90, grad)
    assert torch.equal(by_columns, _native.events_weight_grad_by_rows(rowptr, idx, 90, grad))
    assert torch.equal(by_columns, event_kernels.events_weight_grad(rowptr, idx, 90, grad))
    torch.testing.assert_close(by_columns, grad.float().t() @ spikes.float(), rtol=1e-5, atol=1e-5)
