"""`snn plasticity` end to end on the synthetic dataset, through the real Typer app."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app

TINY = ["--dataset", "synthetic", "--hidden-dim", "32", "--T", "4", "--batch-size", "64", "--epochs", "2",
        "--post-epochs", "2", "--max-batches", "6"]
# Every file of the seed's results/ (README section 4 and the repository's figures/ and models/ folders),
# the files its notebook saves (supervised_snn_baseline.pt, loaded by its post-training cell), and its
# STDP window figure; with the seed's two etas, 1e-5 (gentle) and 1e-4 (strong).
SEED_FILES = [
    "supervised_snn_baseline_state_dict.pt", "supervised_snn_post_trained_state_dict.pt",
    "supervised_snn_baseline.pt", "supervised_snn_post_trained.pt",
    "models/snn_supervised_baseline.pt", "models/snn_supervised_posttrained_eta1e-5.pt",
    "training_curves.csv", "training_curves.json", "post_training_accuracy.json", "per_class_metrics.json",
    "experiment_config.json",
    "snn_train_test_accuracy.png", "cm_supervised_snn.png", "cm_post_trained_snn.png",
    "weight_hist_layer1.png", "weight_hist_layer2.png", "post_training_strong_lr.png", "post_training_gentle_lr.png",
    "snn_spike_heatmaps_post_trained.png", "snn_hidden_activity_example_post_trained.png",
    "figures/cm_post_trained_snn.png", "figures/post_training_accuracy_strong_vs_gentle.png",
    "figures/snn_hidden_activity_example_post_trained.png", "figures/snn_spike_heatmaps_post_trained.png",
    "figures/weight_histograms_gentle_post_training.png",
    "stdp_learning_rule.png",
]
# The strong eta's own copies (the seed post-trained only the gentle model), and snn's own files.
STRONG_FILES = ["models/snn_supervised_posttrained_eta1e-4.pt", "cm_post_trained_snn_eta1e-4.png",
                "weight_hist_layer1_eta1e-4.png", "weight_hist_layer2_eta1e-4.png",
                "snn_spike_heatmaps_post_trained_eta1e-4.png", "snn_hidden_activity_example_post_trained_eta1e-4.png"]
SNN_FILES = ["report.md", "result.json", "snn_spike_heatmaps_baseline.png", "post_training/eta1e-5.json",
             "post_training/eta1e-4.json"]
METRIC_KEYS = ["precision", "recall", "f1", "macro_precision", "macro_recall", "macro_f1"]


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_defaults_write_every_seed_artifact_with_the_seed_keys_and_a_rerun_skips_them(runner, tmp_path):
    res = run(runner, "plasticity", *TINY, "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    run_dir = Path(result["run_dir"])
    assert run_dir == tmp_path / "plasticity_synthetic_mlp32_T4_current" / "hebb-anti-hebb"
    for name in SEED_FILES + STRONG_FILES + SNN_FILES:
        assert (run_dir / name).is_file(), name
    assert (run_dir.parent / "baseline" / ".DONE").is_file()  # the baseline is an ordinary finished run
    assert result["regimes"] == {"1e-5": "gentle", "1e-4": "strong"}

    assert set(result["post_training"]) == {"1e-5", "1e-4"}
    for traj in result["post_training"].values():
        assert len(traj["test_acc"]) == len(traj["macro_f1"]) == 3  # before + 2 epochs
        assert traj["test_acc"][0] == result["baseline"]["test_acc"]
    acc = json.loads((run_dir / "post_training_accuracy.json").read_text())
    assert list(acc) == ["gentle_lr_eta_1e-5", "strong_lr_eta_1e-4"]
    assert acc["strong_lr_eta_1e-4"] == [round(100 * a, 2) for a in result["post_training"]["1e-4"]["test_acc"]]
    metrics = json.loads((run_dir / "per_class_metrics.json").read_text())
    assert list(metrics) == ["baseline", "post_trained_eta_1e-5", "post_trained_eta_1e-4"]
    for part in metrics.values():
        assert list(part) == METRIC_KEYS and len(part["f1"]) == 10
    assert metrics["baseline"]["macro_f1"] == pytest.approx(result["baseline"]["macro_f1"])
    curves = (run_dir / "training_curves.csv").read_text().splitlines()
    assert curves[0] == "epoch,train_acc,test_acc" and len(curves) == 3
    assert list(json.loads((run_dir / "training_curves.json").read_text())) == ["train_acc_history", "test_acc_history"]
    config = json.loads((run_dir / "experiment_config.json").read_text())
    assert list(config) == ["model", "dataset", "num_steps_snn", "num_epochs_snn", "hidden_size_snn", "lr_snn", "alpha_reg",
                            "post_training_epochs", "post_training_eta_gentle", "post_training_eta_strong"]
    assert config["model"] == "SupervisedSNN 784-32-10 LIF" and config["post_training_eta_strong"] == 1e-4

    # The seed's defaults reached the baseline: fast sigmoid, output-mean penalty, no training clip,
    # the dataset's own mean/std as the encoder's affine map.
    settings = result["baseline_settings"]
    assert settings["surrogate"] == "fast_sigmoid" and settings["alpha_reg_term"] == "output-mean"
    assert settings["weight_clip"] is None and settings["enc_bias"] < 0 < settings["enc_scale"]
    # The seed's notebook loads this file into its class; the same weights under all three names.
    state = torch.load(run_dir / "supervised_snn_baseline.pt")
    assert state["fc1.weight"].shape == (32, 784)
    assert torch.equal(state["fc1.weight"], torch.load(run_dir / "models/snn_supervised_baseline.pt")["fc1.weight"])
    gentle = torch.load(run_dir / "supervised_snn_post_trained_state_dict.pt")
    assert torch.equal(gentle["fc2.weight"], torch.load(run_dir / "models/snn_supervised_posttrained_eta1e-5.pt")["fc2.weight"])
    assert torch.equal(gentle["fc1.bias"], state["fc1.bias"])  # post-training never touches biases
    assert gentle["fc1.weight"].abs().max() <= 1.0
    report = (run_dir / "report.md").read_text()
    assert f"{100 * result['baseline']['test_acc']:.2f}%" in report and "](post_training_gentle_lr.png)" in report

    again = run(runner, "plasticity", *TINY, "--out", tmp_path, "--json")
    assert again.exit_code == 0, again.output
    assert "finished before; skipping" in again.stderr
    assert json.loads(again.stdout)["post_training"] == result["post_training"]


def test_a_trained_run_as_checkpoint(runner, tmp_path):
    trained = run(runner, "train", "--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "4",
                  "--epochs", "1", "--max-batches", "4", "--out", tmp_path, "--json")
    run_dir = json.loads(trained.stdout)["run_dir"]
    res = run(runner, "plasticity", "--checkpoint", run_dir, "--rule", "stdp", "--post-epochs", "1",
              "--max-batches", "3", "--batch-size", "64", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["baseline_run"] == run_dir and result["rule"] == "stdp" and set(result["post_training"]) == {"1e-5", "1e-4"}
    out = Path(result["run_dir"])
    for name in SEED_FILES + STRONG_FILES:
        assert (out / name).is_file(), name


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
    (["--rule", "bcm"], "--rule: unknown plasticity rule 'bcm'; choose from anti-hebb, hebb, hebb-anti-hebb, oja, stdp"),
    (["--normalize", "zscore"], "--normalize"),
    (["--lambda-ltd", "-1"], "--lambda-ltd"),
    (["--post-clip", "-1"], "--post-clip"),
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
    assert "is a dense network (784-16-16-10); plasticity needs a dense input-hidden-classes spiking MLP" in res.stderr
    assert not (tmp_path / "p").exists()


def test_a_missing_checkpoint_exits_2(runner, tmp_path):
    res = run(runner, "plasticity", "--checkpoint", tmp_path / "nope", "--out", tmp_path)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "--checkpoint" in res.stderr
