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


def test_bench_reports_spread_load_cpu_and_deeper_layouts():
    res = runner.invoke(app, ["bench", "--model", "dense", "--hidden-dim", "32", "--hidden-layers", "3", "--T", "4",
                              "--batch-size", "8", "--repeats", "3", "--steps", "1", "--no-memory", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["snn_rates"]) == 4  # three hidden layers and the readout
    for impl in ("snn", "reference"):
        s = out[impl]["train_summary"]
        assert len(s["repeats"]) == 3 and s["min"] <= s["median"] <= s["max"]
    r = out["ratios"]["snn"]["train"]
    assert r["min"] <= r["median"] <= r["max"]
    assert out["cpu"] and isinstance(out["warnings"], list)
    assert out["load_before"] is None or len(out["load_before"]) == 3


def test_bench_against_a_missing_peer_is_one_line(monkeypatch):
    import snncli.engine.bench as bench

    monkeypatch.setattr(bench, "peer_installed", lambda name: False)
    res = runner.invoke(app, ["bench", "--model", "mlp", "--hidden-dim", "16", "--T", "2", "--against", "norse"])
    assert res.exit_code == 2
    assert "--against norse: norse is not installed (pip install norse torch==" in res.output
    bad = runner.invoke(app, ["bench", "--model", "mlp", "--against", "brian2"])
    assert bad.exit_code == 2 and "against" in bad.output


@pytest.mark.parametrize("peer", ["spikingjelly", "norse"])
def test_bench_against_peers(peer):
    from snncli.models.peers import peer_installed

    if not peer_installed(peer):
        pytest.skip(f"{peer} not installed (optional extra)")
    res = runner.invoke(app, ["bench", "--model", "dense", "--hidden-dim", "32", "--T", "4", "--batch-size", "8",
                              "--repeats", "1", "--steps", "1", "--no-memory", "--against", peer])
    assert res.exit_code == 0, res.output
    assert {"spikingjelly": "SpikingJelly", "norse": "Norse"}[peer] in res.stdout


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


def test_bench_with_trained_weights(tmp_path):
    import torch

    from snncli.models import create_model

    model = create_model("dense", in_shape=(1, 28, 28), num_classes=10, hidden_dim=32, learn_beta=True,
                         learn_threshold=True)
    with torch.no_grad():
        model.neurons[0].threshold.fill_(0.5)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    args = ["bench", "--model", "dense", "--hidden-dim", "32", "--T", "3", "--batch-size", "4", "--repeats", "1",
            "--steps", "1", "--no-memory", "--json"]
    res = runner.invoke(app, [*args, "--weights", str(tmp_path / "w.pt")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["first_step_loss_diff"] < 1e-4  # snnTorch got the learned values too
    wrong = runner.invoke(app, [*args[:4], "64", *args[5:], "--weights", str(tmp_path / "w.pt")])
    assert wrong.exit_code == 2 and "does not fit this network" in wrong.output
    missing = runner.invoke(app, [*args, "--weights", str(tmp_path / "nope.pt")])
    assert missing.exit_code == 2 and "no such checkpoint" in missing.output
    # a run's checkpoint (the state dict under "model"), as `snn train` writes it, is read as well
    torch.save({"model": model.state_dict(), "epoch": 1}, tmp_path / "run.pth")
    res = runner.invoke(app, [*args, "--weights", str(tmp_path / "run.pth")])
    assert res.exit_code == 0 and json.loads(res.stdout)["first_step_loss_diff"] < 1e-4, res.output


def test_info_lists_the_gpus_it_sees_and_the_distributed_backends(monkeypatch):
    import types

    import torch

    props = types.SimpleNamespace(name="Fake GPU", total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    from snncli.engine.device import visible_gpus

    assert visible_gpus() == [{"index": 0, "name": "Fake GPU", "memory_gib": 80.0},
                              {"index": 1, "name": "Fake GPU", "memory_gib": 80.0}]
    monkeypatch.undo()
    info = json.loads(runner.invoke(app, ["info", "--json"]).stdout)
    assert info["gpus"] == visible_gpus()
    assert ("gloo" in info["distributed_backends"]) == torch.distributed.is_gloo_available()


def test_bench_takes_its_batch_from_a_datasets_test_images():
    import torch

    from snncli.config.bench import BenchConfig
    from snncli.data import load_dataset
    from snncli.engine.bench import _batch

    cfg = BenchConfig(model="dense", hidden_dim=8, batch_size=5, data="synthetic")
    x, y = _batch(cfg)
    test = load_dataset("synthetic").test
    expected = test.x[:5].float() / 255 if test.x.dtype == torch.uint8 else test.x[:5].float()
    assert torch.equal(x, expected) and torch.equal(y, test.y[:5])
    assert not torch.equal(_batch(BenchConfig(model="dense", hidden_dim=8, batch_size=5))[0], x)  # random otherwise
    args = ["bench", "--model", "dense", "--hidden-dim", "8", "--T", "2", "--batch-size", "4", "--repeats", "1",
            "--steps", "1", "--no-memory", "--json"]
    ok = runner.invoke(app, [*args, "--data", "synthetic"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["config"]["data"] == "synthetic", ok.output
    wrong = runner.invoke(app, [*args, "--data", "synthetic-cifar"])
    assert wrong.exit_code == 2 and "1x28x28" in wrong.output


def test_bench_load_warning_discounts_its_own_threads():
    """Two bench threads on two CPUs make a load of 2 by themselves: no warning for that; a load
    that was high before the bench started, or beyond its own threads after, is flagged."""
    import os

    from snncli.engine.bench import LOAD_WARN, _warnings

    cpus = os.cpu_count() or 1
    threads = min(2, cpus)
    summary = {"median": 1.0, "min": 1.0, "max": 1.0}
    base = {"device": "cpu", "threads": threads, "snn": {"train_summary": summary, "infer_summary": summary}}
    quiet = {**base, "load_before": [0.1, 0, 0], "load_after": [threads + 0.2, 0, 0]}
    assert not [w for w in _warnings(quiet, ["snn"]) if "busy" in w]
    busy_before = {**base, "load_before": [LOAD_WARN * cpus + 1, 0, 0], "load_after": [0.1, 0, 0]}
    assert [w for w in _warnings(busy_before, ["snn"]) if "busy" in w]
    busy_after = {**base, "load_before": [0.1, 0, 0], "load_after": [threads + LOAD_WARN * cpus + 1, 0, 0]}
    assert [w for w in _warnings(busy_after, ["snn"]) if "busy" in w]


def test_bench_load_warning_reads_the_cpus_busy_before_the_run():
    """Back-to-back benches: the previous run's threads are still in the 1-minute load average, but the
    CPUs busy just before this run (sampled) are what decide; busy ones are flagged."""
    import os

    from snncli.engine.bench import LOAD_WARN, _warnings, busy_cpus

    cpus = os.cpu_count() or 1
    summary = {"median": 1.0, "min": 1.0, "max": 1.0}
    base = {"device": "cpu", "threads": 1, "snn": {"train_summary": summary, "infer_summary": summary},
            "load_before": [LOAD_WARN * cpus + 1, 0, 0], "load_after": [0.1, 0, 0]}
    assert not [w for w in _warnings({**base, "busy_before": 0.05}, ["snn"]) if "busy" in w]
    assert [w for w in _warnings({**base, "busy_before": LOAD_WARN * cpus + 0.5}, ["snn"]) if "busy" in w]
    busy = busy_cpus(0.2)
    assert busy is None or 0.0 <= busy <= cpus
