"""The spike-activity penalty's two terms, clipping scope, and identity of runs across the new settings."""

import pytest
import torch

from snncli.config import TrainConfig
from snncli.config.identity import differences
from snncli.engine.epoch import activity_penalty, clip_parameters, output_spike_mean
from snncli.models import create_model
from snncli.models.mlp import SNNOutput


def test_output_mean_is_the_mean_of_the_output_spikes_only():
    out_spikes = torch.zeros(5, 2, 10)
    out_spikes[0, 0, :3] = 1.0  # 3 spikes out of 100
    hidden = (torch.ones(5, 2, 512), out_spikes)
    out = SNNOutput(spikes=out_spikes, mem=out_spikes, rates=(), hidden=hidden)
    assert output_spike_mean(out_spikes).item() == pytest.approx(0.03)
    assert activity_penalty(out, "output-mean").item() == pytest.approx(0.03)
    assert activity_penalty(out, "all-spikes").item() == pytest.approx((5 * 2 * 512 + 3) / 2)


def test_output_mean_penalty_has_a_gradient_through_the_surrogate():
    model = create_model("mlp", in_shape=(1, 2, 2), num_classes=3, hidden_dim=5, T=4)
    x = torch.rand(4, 2, 1, 2, 2) * 3
    output_spike_mean(model(x).spikes).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_clip_parameters_can_leave_biases_alone():
    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.mul_(100)
        lin.bias.fill_(-7)
    clip_parameters(lin, 0.5, biases=False)
    assert lin.weight.abs().max() <= 0.5 and torch.equal(lin.bias, torch.full((2,), -7.0))


def test_runs_written_before_alpha_reg_term_keep_their_penalty_and_the_encoder_affine_is_identity():
    old = TrainConfig(model="mlp", dataset="synthetic", alpha_reg=1e-4).model_dump(mode="json")
    del old["alpha_reg_term"], old["enc_scale"], old["enc_bias"]
    # Before the setting, a penalised run summed every layer's spikes: that is still snn train's default.
    assert differences(old, TrainConfig(model="mlp", dataset="synthetic", alpha_reg=1e-4)) == []
    seed_term = TrainConfig(model="mlp", dataset="synthetic", alpha_reg=1e-4, alpha_reg_term="output-mean")
    assert differences(old, seed_term) == ["alpha_reg_term"]
    # A normalised input is another run.
    normalised = TrainConfig(model="mlp", dataset="synthetic", alpha_reg=1e-4, enc_scale=3.0, enc_bias=-0.5)
    assert differences(old, normalised) == ["enc_scale", "enc_bias"]
