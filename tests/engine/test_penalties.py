"""The seed's firing-rate penalty: schedule and squared error; and what `snn train` reports about topology."""

import json

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.engine.penalties import rate_target_penalty, seed_rate_schedule


def test_schedule_is_off_in_the_warmup_then_rises_and_falls_linearly():
    assert seed_rate_schedule(10, 30, 10) == (0.0, 0.25)  # epoch 10 of a 10-epoch warm-up: still off
    weight, target = seed_rate_schedule(20, 30, 10)  # half way
    assert weight == pytest.approx(1e-4 + 0.5 * (1e-2 - 1e-4)) and target == pytest.approx(0.25 - 0.5 * 0.16)
    assert seed_rate_schedule(30, 30, 10) == pytest.approx((1e-2, 0.09))


def test_penalty_is_squared_error_of_each_neurons_rate_and_differentiable():
    spikes = torch.zeros(4, 2, 3, requires_grad=True)  # [T, B, N]
    with torch.no_grad():
        spikes[:, :, 0] = 1.0  # neuron 0 fires every step: rate 1
        spikes[:2, :, 1] = 1.0  # neuron 1: rate 0.5
    penalty = rate_target_penalty([spikes, spikes], 0.25)
    assert penalty.item() == pytest.approx(2 * ((1 - 0.25) ** 2 + (0.5 - 0.25) ** 2 + 0.25**2))
    penalty.backward()
    assert spikes.grad[0, 0, 0] > 0 and spikes.grad[0, 0, 2] < 0  # pushes rates toward the target


@pytest.mark.parametrize("model,mixing", [("index", 0.125), ("mixer", 1.0), ("dense", None)])
def test_train_reports_density_and_mixing(tmp_path, model, mixing):
    res = CliRunner().invoke(app, [
        "train", "--dataset", "synthetic", "--model", model, "--hidden-dim", "64", "--T", "4", "--batch-size", "100",
        "--epochs", "1", "--max-batches", "1", "--p-inter", "0", "--out", str(tmp_path), "--json",
    ])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["mixing"] == (pytest.approx(mixing) if mixing is not None else None)
    kept = 784 * 64 + 2 * 64 * 64 if model == "dense" else (784 * 64 + 2 * 64 * 64) / 8
    assert result["density"] == pytest.approx((kept + 64 * 10) / (784 * 64 + 2 * 64 * 64 + 64 * 10), abs=0.002)


def test_seed_penalty_trains_after_the_warmup(tmp_path):
    res = CliRunner().invoke(app, [
        "train", "--dataset", "synthetic", "--model", "mixer", "--hidden-dim", "32", "--T", "4", "--batch-size", "100",
        "--epochs", "2", "--max-batches", "2", "--enforce-sparsity", "--warmup-epochs", "1", "--out", str(tmp_path), "--json",
    ])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in open(f"{json.loads(res.stdout)['run_dir']}/metrics.jsonl")]
    assert [r["regularised"] for r in rows] == [False, True]
    assert rows[1]["rate_weight"] == pytest.approx(1e-2) and rows[1]["rate_target"] == pytest.approx(0.09)
