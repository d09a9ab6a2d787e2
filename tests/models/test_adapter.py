"""The classifier adapter: images -> logits for any snn model, gradients in eval mode, EOT averaging."""

import pytest
import torch

from snncli.data import encode
from snncli.models import SNNClassifier, create_model, logits_of


def small(**kw):
    torch.manual_seed(0)
    model = create_model("mlp", in_shape=(1, 8, 8), num_classes=5, hidden_dim=16, T=6, threshold=0.5, **kw).eval()
    return model


def test_logits_match_the_model_and_state_is_fresh_every_call():
    model = small()
    x = torch.rand(4, 1, 8, 8)
    for readout in ("count", "membrane"):
        clf = SNNClassifier(model, T=6, enc="current", enc_scale=2.0, enc_bias=-0.1, readout=readout)
        expected = logits_of(model(encode(x, 6, "current", 2.0, -0.1)), readout)
        first = clf(x)
        assert first.shape == (4, 5)
        torch.testing.assert_close(first, expected)
        torch.testing.assert_close(clf(x), first)  # no state carried over from the previous call


def test_reset_state_hook_is_called():
    model = small()
    calls = []
    model.reset_state = lambda: calls.append(1)
    SNNClassifier(model, T=6)(torch.rand(2, 1, 8, 8))
    assert calls == [1]


@pytest.mark.parametrize("enc", ["current", "rate"])
def test_input_gradient_is_nonzero_in_eval_mode(enc):
    model = small()
    assert not model.training
    clf = SNNClassifier(model, T=6, enc=enc, readout="count", eot=2)
    x = (torch.rand(3, 1, 8, 8) * 0.8 + 0.1).requires_grad_()
    loss = torch.nn.functional.cross_entropy(clf(x), torch.tensor([0, 1, 2]))
    (grad,) = torch.autograd.grad(loss, x)
    assert grad.abs().sum() > 0


def test_eot_averages_logits_and_gradients_over_encodings():
    model = small()
    x = (torch.rand(2, 1, 8, 8) * 0.8 + 0.1).requires_grad_()
    w = torch.randn(2, 5)  # any function of the logits
    clf = SNNClassifier(model, T=6, enc="rate", readout="membrane", eot=3, seed=7)
    (g_eot,) = torch.autograd.grad((clf(x) * w).sum(), x)
    # The same three encodings one at a time: a single-draw adapter on the same generator stream.
    single = SNNClassifier(model, T=6, enc="rate", readout="membrane", eot=1, seed=7)
    grads, outs = [], []
    for _ in range(3):
        out = single(x)
        outs.append(out.detach())
        grads.append(torch.autograd.grad((out * w).sum(), x)[0])
    clf.reseed()
    torch.testing.assert_close(clf(x).detach(), torch.stack(outs).mean(0))
    torch.testing.assert_close(g_eot, torch.stack(grads).mean(0))
    assert not torch.equal(grads[0], grads[1])  # the draws really differ


def test_rate_coding_is_reproducible_after_reseed_and_current_ignores_eot():
    model = small()
    x = torch.rand(3, 1, 8, 8)
    clf = SNNClassifier(model, T=6, enc="rate", seed=3)
    a = clf(x)
    clf.reseed()
    torch.testing.assert_close(clf(x), a)
    assert SNNClassifier(model, T=6, enc="current", eot=5).stochastic is False


def test_bad_settings_are_refused():
    model = small()
    with pytest.raises(ValueError, match="readout"):
        SNNClassifier(model, T=4, readout="rates")
    with pytest.raises(ValueError, match="eot"):
        SNNClassifier(model, T=4, eot=0)


def test_image_models_get_the_unflattened_sequence():
    seen = []

    class Conv(torch.nn.Module):
        def forward(self, x_seq, record=False):
            seen.append(tuple(x_seq.shape))
            logits = x_seq.mean((2, 3, 4))[..., None].expand(*x_seq.shape[:2], 3)
            from snncli.models import SNNOutput
            return SNNOutput(spikes=logits, mem=logits, rates=())

    out = SNNClassifier(Conv(), T=5)(torch.rand(2, 3, 4, 4))
    assert seen == [(5, 2, 3, 4, 4)] and out.shape == (2, 3)
