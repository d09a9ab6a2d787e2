"""`snn crossval` end to end on the synthetic dataset."""

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app

runner = CliRunner()
ARGS = ["crossval", "--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "64", "--T", "6",
        "--batch-size", "32", "--epochs", "1", "--k-folds", "3"]
NAME = "crossval_synthetic_mlp_p0.15_T6_current_k3"


def test_folds_summary_and_skip_on_rerun(tmp_path):
    res = runner.invoke(app, [*ARGS, "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [f["fold"] for f in report["folds"]] == [0, 1, 2] and not report["failed"]
    accs = [f["val_acc"] for f in report["folds"]]
    assert report["summary"]["val_acc"]["mean"] == pytest.approx(statistics.fmean(accs))
    assert report["summary"]["val_acc"]["std"] == pytest.approx(statistics.stdev(accs))
    assert report["summary"]["val_acc"]["std_population"] == pytest.approx(statistics.pstdev(accs))  # the seed's np.std
    assert report["folds_kind"] == "stratified"
    root = tmp_path / NAME
    assert json.loads((root / "crossval.json").read_text())["folds"] == report["folds"]
    assert all((root / f"fold{i}" / ".DONE").exists() for i in range(3))
    again = json.loads(runner.invoke(app, [*ARGS, "--out", str(tmp_path), "--json"]).stdout)
    assert [f["status"] for f in again["folds"]] == ["skipped"] * 3
    assert [f["val_acc"] for f in again["folds"]] == accs


def test_parallel_jobs_give_exactly_the_serial_folds(tmp_path):
    # Same --threads in both modes: the float summation order is the same, so are the numbers.
    args = [*ARGS, "--threads", "1", "--json"]
    serial = json.loads(runner.invoke(app, [*args, "--out", str(tmp_path / "a")]).stdout)
    parallel = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--jobs", "2"])
    assert parallel.exit_code == 0, parallel.output
    par = json.loads(parallel.stdout)
    assert [p["fold"] for p in par["folds"]] == [s["fold"] for s in serial["folds"]] == [0, 1, 2]
    for s, p in zip(serial["folds"], par["folds"]):
        assert (p["val_acc"], p["val_loss"], p["test_acc"]) == (s["val_acc"], s["val_loss"], s["test_acc"])
    config = json.loads((tmp_path / "b" / NAME / "fold0" / "config.json").read_text())
    assert config["threads"] == 1


def test_folds_record_the_thread_count_they_ran_with(tmp_path):
    res = runner.invoke(app, [*ARGS[:-1], "2", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    name = NAME.replace("_k3", "_k2")
    threads = json.loads((tmp_path / name / "fold0" / "config.json").read_text())["threads"]
    assert isinstance(threads, int) and threads >= 1


def test_a_failing_fold_fails_the_command_after_the_others(tmp_path):
    bad = tmp_path / NAME / "fold1"
    bad.mkdir(parents=True)
    (bad / "synthetic_mlp_p0.15_T6_current_fold1.pth").write_bytes(b"garbage")
    res = runner.invoke(app, [*ARGS, "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "fold 1 failed" in res.output and "unreadable checkpoint" in res.output
    assert (tmp_path / NAME / "fold0" / ".DONE").exists() and (tmp_path / NAME / "fold2" / ".DONE").exists()


def test_bad_fold_count_exits_2(tmp_path):
    res = runner.invoke(app, [*ARGS[:-2], "--k_folds", "1", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--k-folds" in res.output
    assert not any(Path(tmp_path).iterdir())


def test_ray_executor_runs_folds_as_tasks_on_a_local_instance(tmp_path):
    pytest.importorskip("ray")
    args = [*ARGS[:-1], "2", "--executor", "ray", "--out", str(tmp_path), "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [f["fold"] for f in report["folds"]] == [0, 1] and not report["failed"]
    local = json.loads(runner.invoke(app, [*ARGS[:-1], "2", "--out", str(tmp_path / "local"), "--json"]).stdout)
    for r, s in zip(report["folds"], local["folds"]):
        assert r["val_acc"] == pytest.approx(s["val_acc"], abs=0.02)  # same folds, same seed


def test_missing_ray_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    res = runner.invoke(app, [*ARGS, "--executor", "ray", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "pip install 'snncli[ray]'" in res.output
    assert not any(tmp_path.iterdir())


def test_contiguous_folds_are_the_seeds_unshuffled_blocks(tmp_path):
    res = runner.invoke(app, [*ARGS, "--folds", "contiguous", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["folds_kind"] == "contiguous" and report["dir"].endswith("_k3_contiguous")
    results = [json.loads((Path(f["run_dir"]) / "result.json").read_text()) for f in report["folds"]]
    n = 2000  # synthetic training images
    assert [r["val_samples"] for r in results] == [n // 3, n // 3, n - 2 * (n // 3)]  # the last takes the rest
    res = runner.invoke(app, [*ARGS, "--folds", "shuffled", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--folds" in res.output
