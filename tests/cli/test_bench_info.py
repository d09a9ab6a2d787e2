"""`snn bench` and `snn info` run and report what they claim (no speed is asserted)."""

import json

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize("model", ["mlp", "mixer"])
def test_bench_runs_both_implementations_and_they_agree(model):
    res = runner.invoke(app, ["bench", "--model", model, "--hidden-dim", "64", "--T", "6", "--batch-size", "16",
                              "--repeats", "2", "--precision", "fp32", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for impl in ("snn", "reference"):
        assert out[impl]["train_samples_per_s"] > 0 and out[impl]["infer_samples_per_s"] > 0
    # Same weights, same batch, fp32: the first training step sees the same loss.
    assert out["first_step_loss_diff"] < 1e-5
    assert out["ratio"]["train"] == pytest.approx(
        out["snn"]["train_samples_per_s"] / out["reference"]["train_samples_per_s"])
    assert out["snn"]["peak_train_bytes"] is None or out["snn"]["peak_train_bytes"] > 0


def test_bench_table_and_bad_model():
    res = runner.invoke(app, ["bench", "--model", "mlp", "--hidden-dim", "32", "--T", "4", "--batch-size", "8",
                              "--repeats", "1", "--no-memory"])
    assert res.exit_code == 0 and "ratio" in res.stdout
    bad = runner.invoke(app, ["bench", "--model", "vgg99"])
    assert bad.exit_code == 2 and "--model: unknown model" in bad.output


def test_info_reports_versions_device_and_data_paths():
    import importlib.metadata

    from snncli.engine import resolve_device

    res = runner.invoke(app, ["info", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["packages"]["torch"] == importlib.metadata.version("torch")
    assert info["packages"]["pydantic"] == importlib.metadata.version("pydantic")
    assert info["device"] == str(resolve_device("auto"))
    assert any("fashion-mnist" in p for p in info["data_search_paths"]["fashionmnist"])
