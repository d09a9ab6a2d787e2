"""`snn plasticity` end to end on the synthetic dataset, through the real Typer app."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app

TINY = ["--dataset", "synthetic", "--hidden-dim", "32", "--T", "4", "--batch-size", "64", "--epochs", "2",
        "--post-epochs", "2", "--max-batches", "6"]
SEED_FILES = [
    "supervised_snn_baseline_state_dict.pt", "supervised_snn_post_trained_state_dict.pt", "training_curves.csv",
    "training_curves.json", "post_training_accuracy.json", "per_class_metrics.json", "experiment_config.json",
    "report.md", "snn_train_test_accuracy.png", "cm_supervised_snn.png", "post_training_accuracy.png",
    "snn_spike_heatmaps_baseline.png",
]
PER_ETA = ["supervised_snn_post_trained_state_dict{}.pt", "cm_post_trained_snn{}.png", "weight_hist_layer1{}.png",
           "weight_hist_layer2{}.png", "snn_spike_heatmaps_post_trained{}.png", "snn_hidden_activity_example_post_trained{}.png"]


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_two_etas_write_every_artifact_and_a_rerun_skips_them(runner, tmp_path):
    res = run(runner, "plasticity", *TINY, "--eta", "1e-4", "--eta", "1e-3", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    run_dir = Path(result["run_dir"])
    assert run_dir == tmp_path / "plasticity_synthetic_mlp32_T4_current" / "hebb"
    for name in SEED_FILES + [f.format(s) for f in PER_ETA for s in ("_eta0.0001", "_eta0.001")]:
        assert (run_dir / name).is_file(), name
    assert (run_dir.parent / "baseline" / ".DONE").is_file()  # the baseline is an ordinary finished run

    assert set(result["post_training"]) == {"0.0001", "0.001"}
    for traj in result["post_training"].values():
        assert len(traj["test_acc"]) == len(traj["macro_f1"]) == 3  # before + 2 epochs
        assert traj["test_acc"][0] == result["baseline"]["test_acc"]
    acc = json.loads((run_dir / "post_training_accuracy.json").read_text())
    assert acc["eta_0.0001"][0] == pytest.approx(100 * result["baseline"]["test_acc"])
    assert acc["eta_0.001"] == pytest.approx([100 * a for a in result["post_training"]["0.001"]["test_acc"]])
    metrics = json.loads((run_dir / "per_class_metrics.json").read_text())
    for part in ("baseline", "post_trained"):
        assert {"precision", "recall", "f1", "macro_precision", "macro_recall", "macro_f1"} <= set(metrics[part])
        assert len(metrics[part]["f1"]) == 10
    assert metrics["baseline"]["macro_f1"] == pytest.approx(result["baseline"]["macro_f1"])
    curves = (run_dir / "training_curves.csv").read_text().splitlines()
    assert curves[0] == "epoch,train_acc,test_acc" and len(curves) == 3
    config = json.loads((run_dir / "experiment_config.json").read_text())
    assert config["alpha_reg"] == 1e-4 and config["weight_clip"] == 1.0 and config["post_training_etas"] == [1e-4, 1e-3]
    state = torch.load(run_dir / "supervised_snn_baseline_state_dict.pt")
    assert state["fc1.weight"].shape == (32, 784) and state["fc2.weight"].abs().max() <= 1.0
    report = (run_dir / "report.md").read_text()
    assert f"{100 * result['baseline']['test_acc']:.2f}%" in report and "](post_training_accuracy.png)" in report

    again = run(runner, "plasticity", *TINY, "--eta", "1e-4", "--eta", "1e-3", "--out", tmp_path, "--json")
    assert again.exit_code == 0, again.output
    assert "finished before; skipping" in again.stderr
    assert json.loads(again.stdout)["post_training"] == result["post_training"]


def test_one_eta_uses_the_seed_names_and_a_trained_run_as_checkpoint(runner, tmp_path):
    trained = run(runner, "train", "--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "4",
                  "--epochs", "1", "--max-batches", "4", "--out", tmp_path, "--json")
    run_dir = json.loads(trained.stdout)["run_dir"]
    res = run(runner, "plasticity", "--checkpoint", run_dir, "--rule", "stdp", "--post-epochs", "1",
              "--max-batches", "3", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["baseline_run"] == run_dir and result["rule"] == "stdp" and set(result["post_training"]) == {"1e-05"}
    out = Path(result["run_dir"])
    for name in SEED_FILES + [f.format("") for f in PER_ETA]:
        assert (out / name).is_file(), name
    assert not list(out.glob("*_eta*"))


def test_stdp_only_baseline_learns_the_synthetic_classes(runner, tmp_path):
    res = run(runner, "plasticity", "--baseline", "stdp", "--dataset", "synthetic", "--hidden-dim", "40", "--T", "8",
              "--max-batches", "12", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["test_acc"] > 0.5  # chance is 0.1; labels only name the neurons afterwards
    out = Path(result["run_dir"])
    for name in ("stdp_baseline_state_dict.pt", "per_class_metrics.json", "cm_stdp_baseline.png",
                 "stdp_receptive_fields.png", "report.md", "result.json"):
        assert (out / name).is_file(), name


@pytest.mark.parametrize("args, message", [
    (["--eta", "0"], "--eta: every eta must be > 0"),
    (["--eta", "1e-5", "--eta", "-1e-4"], "--eta: every eta must be > 0"),
    (["--rule", "bcm"], "--rule: unknown plasticity rule; choose from anti-hebb, hebb, oja, stdp"),
    (["--post-epochs", "0"], "--post-epochs"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(runner, tmp_path, args, message):
    res = run(runner, "plasticity", *TINY, *args, "--out", tmp_path)
    assert res.exit_code == 2
    assert res.stderr.startswith(f"snn: error: {message}") and res.stderr.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_a_checkpoint_of_another_architecture_exits_2(runner, tmp_path):
    trained = run(runner, "train", "--dataset", "synthetic", "--model", "dense", "--hidden-dim", "16", "--T", "2",
                  "--epochs", "1", "--max-batches", "2", "--out", tmp_path, "--json")
    run_dir = json.loads(trained.stdout)["run_dir"]
    res = run(runner, "plasticity", "--checkpoint", run_dir, "--out", tmp_path / "p")
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1
    assert "is a dense network (784-16-16-16-10); plasticity needs a dense input-hidden-classes spiking MLP" in res.stderr
    assert not (tmp_path / "p").exists()


def test_a_missing_checkpoint_exits_2(runner, tmp_path):
    res = run(runner, "plasticity", "--checkpoint", tmp_path / "nope", "--out", tmp_path)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "--checkpoint" in res.stderr
