"""`snn train --nproc` / `--micro-batches` through the real Typer app: validation, and one 2-rank gloo run."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app

FAST = ["--dataset", "synthetic", "--model", "dense", "--hidden-dim", "16", "--T", "3", "--batch-size", "16",
        "--max-batches", "2", "--threads", "1"]


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("args, says", [
    (["--nproc", "0"], "--nproc"),
    (["--nproc", "3", "--batch-size", "2"], "more parts than --batch-size 2"),
    (["--micro-batches", "0"], "--micro-batches"),
    (["--micro-batches", "many"], "--micro-batches"),
])
def test_bad_values_exit_2_with_one_line_and_write_nothing(tmp_path, args, says):
    res = run("train", *FAST, "--out", tmp_path / "runs", *args)
    assert res.exit_code == 2, res.output
    assert says in res.output and "Traceback" not in res.output
    assert not (tmp_path / "runs").exists()


def test_crossval_refuses_nproc_with_jobs(tmp_path):
    res = run("crossval", *FAST, "--nproc", "2", "--jobs", "2", "--out", tmp_path / "runs")
    assert res.exit_code == 2 and "--nproc" in res.output, res.output


def test_help_explains_nproc():
    out = run("train", "--help").output
    assert "--nproc" in out and "--micro-batches" in out and "torchrun" in out


@pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason="torch built without gloo")
def test_two_ranks_train_and_rank_zero_writes_once(tmp_path):
    res = run("train", *FAST, "--epochs", "2", "--nproc", "2", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["status"] == "finished" and result["workers"] == 2
    run_dir = Path(result["run_dir"])
    assert [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert (run_dir / ".DONE").exists() and not (run_dir / ".lock").exists()
    again = run("train", *FAST, "--epochs", "2", "--nproc", "2", "--out", tmp_path, "--json")
    assert json.loads(again.stdout)["status"] == "skipped"


def test_sweep_refuses_nproc_with_jobs(tmp_path):
    res = run("sweep", "--grid", "seed=1,2", *FAST, "--nproc", "2", "--jobs", "2", "--out", tmp_path / "runs")
    assert res.exit_code == 2 and "--nproc" in res.output, res.output
    assert not (tmp_path / "runs").exists()
