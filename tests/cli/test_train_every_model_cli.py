"""`snn train` runs one step of every registered model (a model is tested the moment it is registered)."""

import json

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.models import list_models, model_family

#: The smallest run of each family: one batch of 8, tiny widths, two time steps.
FAMILY_ARGS = {
    "conv": ["--dataset", "synthetic-cifar", "--width", "0.0625", "--spiking", "true"],
    "mlp": ["--dataset", "synthetic"],
    "g2g": ["--dataset", "synthetic", "--groups", "2"],
}


@pytest.mark.parametrize("model", list_models())
def test_train_one_step(model, tmp_path):
    args = ["train", "--model", model, *FAMILY_ARGS[model_family(model)], "--hidden-dim", "16", "--T", "2",
            "--batch-size", "8", "--max-batches", "1", "--epochs", "1", "--val-fraction", "0", "--out", str(tmp_path), "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["status"] == "finished" and result["epochs"] == 1
    assert 0.0 <= result["test_acc"] <= 1.0 and result["train_acc"] >= 0.0
    assert result["parameters"] > 0
