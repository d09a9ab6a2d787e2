"""Health checks: a dead or saturated network, or a loss stuck at ln C, is warned about and flagged."""

import json
import math

from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.config import TrainConfig
from snncli.engine import Callbacks, train
from snncli.engine.health import HealthMonitor, health_label

SETTINGS = {"loss": "count", "threshold": 1.0, "enc": "current", "enc_scale": 1.0, "T": 3, "hidden_dim": 16, "lr": 1e-3}
#: A tiny G2G network whose threshold no input reaches: it never spikes.
DEAD = ["--dataset", "synthetic", "--model", "mixer", "--hidden-layers", "2", "--hidden-dim", "16", "--groups", "2", "--T", "3",
        "--threshold", "100", "--epochs", "1", "--max-batches", "1", "--batch-size", "32"]


def _row(rates, loss=1.0, acc=0.6, epoch=1):
    return {"epoch": epoch, **{f"rate_l{i}": r for i, r in enumerate(rates, 1)}, "test_loss": loss, "test_acc": acc}


def test_silent_layers_are_one_finding_naming_the_first_as_the_cause():
    found = HealthMonitor(10, SETTINGS).check(_row([0.2, 0.0, 0.0]))
    assert [(f.check, f.layers) for f in found] == [("silent_layer", [2, 3])]
    assert "nothing passes layer 2" in found[0].message and "--threshold 1.0" in found[0].message


def test_saturated_layer_and_membrane_readout():
    found = HealthMonitor(10, SETTINGS).check(_row([0.99, 0.1, 0.5]))
    assert [(f.check, f.layers) for f in found] == [("saturated_layer", [1])]
    # A membrane readout never reads the output layer's spikes: its silence is no finding.
    assert HealthMonitor(10, {**SETTINGS, "loss": "membrane"}).check(_row([0.1, 0.1, 0.0])) == []
    assert HealthMonitor(10, SETTINGS).check(_row([0.1, 0.1, 0.0]))[0].layers == [3]


def test_loss_at_ln_c_only_with_chance_accuracy():
    monitor = HealthMonitor(10, SETTINGS)
    assert [f.check for f in monitor.check(_row([0.1, 0.1], loss=math.log(10), acc=0.1))] == ["loss_at_chance"]
    assert monitor.check(_row([0.1, 0.1], loss=math.log(10), acc=0.5)) == []  # learning, loss merely high
    assert monitor.check(_row([0.1, 0.1], loss=2.0, acc=0.1)) == []


def test_each_finding_is_warned_once_and_the_last_epoch_decides_the_health():
    monitor = HealthMonitor(10, SETTINGS)
    assert len(monitor.observe(_row([0.0, 0.0], loss=math.log(10), acc=0.1))) == 2  # silent + loss
    assert monitor.observe(_row([0.0, 0.0], loss=math.log(10), acc=0.1, epoch=2)) == []
    health, new = monitor.finish(_row([0.0, 0.0], loss=math.log(10), acc=0.1))
    assert not health["ok"] and [f["check"] for f in health["findings"]] == [
        "silent_layer", "loss_at_chance", "accuracy_at_chance"]
    assert len(new) == 1 and "near chance" in new[0]
    assert health_label(health) == "silent l1,l2; loss at ln C; at chance"
    recovered, _ = HealthMonitor(10, SETTINGS).finish(_row([0.1, 0.05], loss=0.5, acc=0.9))
    assert recovered == {"ok": True, "findings": []} and health_label(recovered) == "ok"
    assert health_label(None) == "?"


def test_dead_network_is_warned_about_during_training_and_flagged_in_result_json(tmp_path):
    warnings = []
    cfg = TrainConfig(dataset="synthetic", model="mixer", hidden_dim=16, groups=2, T=3, threshold=100, epochs=1,
                      max_batches=1, batch_size=32, out=tmp_path)
    result = train(cfg, Callbacks(on_warning=warnings.append))
    assert any("silent" in w and "--threshold 100.0" in w for w in warnings), warnings
    assert any("ln 10" in w for w in warnings) and any("near chance" in w for w in warnings)
    stored = json.loads((tmp_path / cfg.run_name() / "result.json").read_text())
    assert stored["health"] == result["health"] and not stored["health"]["ok"]
    assert {f["check"] for f in stored["health"]["findings"]} == {"silent_layer", "loss_at_chance", "accuracy_at_chance"}


def test_a_working_run_is_healthy(run_dir):
    assert json.loads((run_dir / "result.json").read_text())["health"] == {"ok": True, "findings": []}


def test_cli_warns_on_stderr_and_shows_the_flag(tmp_path):
    res = CliRunner().invoke(app, ["train", *DEAD, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "warning: epoch 1: layers 1, 2 and the output layer are silent (no spikes at all)" in res.stderr
    assert "health" in res.stdout and "silent l1,l2,l3" in res.stdout
    # --json carries the flag for scripts; a re-run returns it with the stored result.
    again = json.loads(CliRunner().invoke(app, ["train", *DEAD, "--out", str(tmp_path), "--json"]).stdout)
    assert again["status"] == "skipped" and not again["health"]["ok"]


def test_crossval_and_sweep_tables_flag_dead_runs(tmp_path):
    res = CliRunner().invoke(app, ["crossval", *DEAD, "--k-folds", "2", "--out", str(tmp_path / "cv")])
    assert res.exit_code == 0, res.output
    assert "2 unhealthy" in res.stdout and "2 of 2 folds are unhealthy" in res.stderr
    report = json.loads(CliRunner().invoke(app, ["crossval", *DEAD, "--k-folds", "2", "--out", str(tmp_path / "cv"),
                                                 "--json"]).stdout)
    assert report["unhealthy"] == [0, 1]
    sweep = tmp_path / "sweep"
    res = CliRunner().invoke(app, ["sweep", *DEAD, "--grid", "threshold=50,100", "--out", str(sweep)])
    assert res.exit_code == 0, res.output
    assert res.stdout.count("silent l1,l2,l3") == 2
    summary = json.loads(CliRunner().invoke(app, ["sweep", "summarize", str(sweep), "--json"]).stdout)
    assert [r["health"] for r in summary["rows"]] == ["silent l1,l2,l3; loss at ln C; at chance"] * 2
