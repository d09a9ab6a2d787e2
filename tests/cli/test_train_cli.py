"""`snn train` end to end on the synthetic dataset, through the real Typer app."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app

FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "64", "--T", "8", "--batch-size", "32"]


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_version_and_help(runner):
    assert run(runner, "--version").stdout.startswith("snn ")
    res = run(runner, "train", "--help")
    assert res.exit_code == 0
    for flag in ("--hidden-dim", "--p-inter", "--batch-size", "--T", "--enc", "--data-root", "--seed", "--device", "--json", "--config"):
        assert flag in res.stdout


def test_train_json_result_and_run_folder(runner, tmp_path):
    res = run(runner, "train", *FAST, "--epochs", "2", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["status"] == "finished"
    assert result["test_acc"] > 0.5  # 10 classes: chance is 0.1
    run_dir = Path(result["run_dir"])
    assert run_dir.name == "synthetic_mlp_p0.15_T8_current"
    for name in ("metrics.csv", "metrics.jsonl", "config.json", "result.json", ".DONE", f"{run_dir.name}.pth"):
        assert (run_dir / name).exists(), name
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert {"train_loss", "val_acc", "test_acc", "rate_l1", "samples_per_s"} <= set(rows[0])


def test_finished_run_is_skipped_and_force_reruns(runner, tmp_path):
    args = ["train", *FAST, "--epochs", "1", "--out", tmp_path, "--json"]
    first = json.loads(run(runner, *args).stdout)
    again = json.loads(run(runner, *args).stdout)
    assert again["status"] == "skipped" and again["test_acc"] == first["test_acc"]
    forced = json.loads(run(runner, *args, "--force").stdout)
    assert forced["status"] == "finished"


def test_interrupted_run_resumes_to_the_same_result(runner, tmp_path):
    straight = json.loads(run(runner, "train", *FAST, "--epochs", "3", "--out", tmp_path / "a", "--json").stdout)
    # "Kill" after epoch 1: train 1 epoch, then ask for 3 in the same folder.
    run(runner, "train", *FAST, "--epochs", "1", "--out", tmp_path / "b")
    done = tmp_path / "b" / "synthetic_mlp_p0.15_T8_current" / ".DONE"
    done.unlink()
    resumed = json.loads(run(runner, "train", *FAST, "--epochs", "3", "--out", tmp_path / "b", "--json").stdout)
    assert resumed["resumed_from_epoch"] == 1
    assert resumed["test_acc"] == straight["test_acc"]
    assert resumed["test_loss"] == pytest.approx(straight["test_loss"], rel=0, abs=1e-6)


def test_flags_override_config_file(runner, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("dataset: synthetic\nmodel: mlp\nhidden-dim: 32\nT: 6\nepochs: 5\nbatch_size: 64\n")
    res = run(runner, "train", "--config", cfg, "--epochs", "1", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    saved = json.loads((Path(json.loads(res.stdout)["run_dir"]) / "config.json").read_text())
    assert saved["epochs"] == 1 and saved["hidden_dim"] == 32 and saved["T"] == 6


def test_seed_spellings_are_accepted(runner, tmp_path):
    res = run(runner, "train", "--dataset", "synthetic", "--model", "mixer", "--hidden_dim", "32", "--p_inter", "0.2",
              "--batch_size", "64", "--T", "5", "--epochs", "1", "--sparsity_mode", "static", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["name"] == "synthetic_mixer_p0.2_T5_current"
    assert 0.5 < result["sparsity"] < 0.9


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--model", "nope"], "--model: unknown model 'nope'; choose from dense"),
        (["--model", "mixr"], "--model: unknown model 'mixr' (did you mean 'mixer'?); choose from dense"),
        (["--p-inter", "1.5"], "--p-inter"),
        (["--epochs", "-1"], "--epochs"),
        (["--enc", "morse"], "--enc: unknown encoding 'morse'; choose from current, rate"),
        (["--data-root", "/no/such/folder"], "--data-root"),
        (["--dataset", "imagenet-42"], "--dataset: unknown dataset"),
        (["--dataset", "fashion-mnist"], "--dataset: unknown dataset 'fashion-mnist' (did you mean 'fashionmnist'?)"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(runner, tmp_path, args, needle):
    res = run(runner, "train", "--dataset", "synthetic", *args, "--out", tmp_path)
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_unknown_config_key_exits_2(runner, tmp_path):
    cfg = tmp_path / "bad.json"
    cfg.write_text(json.dumps({"dataset": "synthetic", "hiden_dim": 3}))
    res = run(runner, "train", "--config", cfg, "--out", tmp_path / "runs")
    # A key of the file, not an option: named as written there, with the setting it was meant to be.
    assert res.exit_code == 2
    assert "config: unknown key 'hiden_dim' (not a setting of this command); did you mean 'hidden_dim'?" in res.output
    assert not (tmp_path / "runs").exists()


def test_corrupt_checkpoint_is_reported_and_kept(runner, tmp_path):
    run_dir = tmp_path / "synthetic_mlp_p0.15_T8_current"
    run_dir.mkdir()
    ckpt = run_dir / "synthetic_mlp_p0.15_T8_current.pth"
    ckpt.write_bytes(b"not a checkpoint")
    res = run(runner, "train", *FAST, "--epochs", "1", "--out", tmp_path)
    assert res.exit_code == 2 and "unreadable checkpoint" in res.output
    assert ckpt.read_bytes() == b"not a checkpoint"


def test_foreign_checkpoint_is_refused(runner, tmp_path):
    run(runner, "train", *FAST, "--epochs", "1", "--out", tmp_path)
    run_dir = tmp_path / "synthetic_mlp_p0.15_T8_current"
    (run_dir / ".DONE").unlink()
    before = (run_dir / "synthetic_mlp_p0.15_T8_current.pth").read_bytes()
    # Same run name (the seed's naming omits the width), different network.
    res = run(runner, "train", *FAST[:4], "--hidden-dim", "32", *FAST[6:], "--epochs", "2", "--out", tmp_path)
    assert res.exit_code == 2 and "different run (hidden_dim=64" in res.output
    assert (run_dir / "synthetic_mlp_p0.15_T8_current.pth").read_bytes() == before


def test_killed_process_resumes_to_the_same_metrics(tmp_path):
    """SIGKILL the real `snn` process mid-run, re-run it, and compare with an uninterrupted run."""
    import signal
    import subprocess
    import sys
    import time

    args = [sys.executable, "-m", "snncli", "train", *FAST, "--epochs", "6", "--json"]
    straight = json.loads(subprocess.run([*args, "--out", str(tmp_path / "a")], capture_output=True, text=True,
                                         check=True).stdout)
    run_dir = tmp_path / "b" / "synthetic_mlp_p0.15_T8_current"
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "b")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (run_dir / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / ".DONE").exists(), "killed too late to test resuming"
    resumed = json.loads(subprocess.run([*args, "--out", str(tmp_path / "b")], capture_output=True, text=True,
                                        check=True).stdout)
    assert resumed["resumed_from_epoch"] >= 1
    assert resumed["test_acc"] == straight["test_acc"]
    assert resumed["test_loss"] == pytest.approx(straight["test_loss"], abs=1e-6)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, 7))


def test_finished_run_of_another_seed_is_not_returned(runner, tmp_path):
    first = run(runner, "train", *FAST, "--epochs", "1", "--out", tmp_path, "--json")
    assert first.exit_code == 0
    other = run(runner, "train", *FAST, "--epochs", "1", "--seed", "7", "--out", tmp_path, "--json")
    assert other.exit_code == 2 and "different run (seed=42" in other.output


def test_firing_rate_regularisation_lowers_hidden_rates_after_warmup(runner, tmp_path):
    base = ["train", *FAST, "--epochs", "2", "--json"]
    plain = json.loads(run(runner, *base, "--out", tmp_path / "plain").stdout)
    reg = json.loads(run(runner, *base, "--enforce-sparsity", "--rate-penalty", "mean", "--warmup-epochs", "1", "--rate-reg", "0.5",
                         "--out", tmp_path / "reg").stdout)
    rows = [json.loads(line) for line in (Path(reg["run_dir"]) / "metrics.jsonl").read_text().splitlines()]
    assert [r["regularised"] for r in rows] == [False, True]
    assert reg["firing_rates"][0] < 0.8 * plain["firing_rates"][0]
