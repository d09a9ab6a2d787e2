"""Reliability of the commands under hostile conditions: a second writer, a killed writer, a full disk, a diverging
run, a checkpoint with NaN weights or a malicious pickle, a SIGKILLed crossval parent."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from snncli import atomic
from snncli.atomic import pid_alive
from snncli.cli.app import app
from snncli.engine.checkpoint import load_checkpoint, save_checkpoint

FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "4", "--batch-size", "64",
        "--max-batches", "4"]
NAME = "synthetic_mlp_p0.15_T4_current"


def run(*args, **kw):
    return CliRunner().invoke(app, [str(a) for a in args], **kw)


def one_error_line(res) -> str:
    """The one ``snn: error:`` line, last on stderr (progress lines of work done before may precede it)."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("snn: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], res.stderr
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))
    return errors[0]


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def one_epoch(tmp_path):
    """A finished one-epoch run of ``FAST`` in ``tmp_path``; returns its folder."""
    res = run("train", *FAST, "--epochs", "1", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    return tmp_path / NAME


# --------------------------------------------------------------------------------------------------------- locks

HOLD = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"pid": os.getpid(), "host": "h", "command": "snn train --epochs 3"}).encode())
print("held", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_second_train_of_the_same_run_exits_2_naming_the_holder_and_a_dead_holder_is_taken_over(one_epoch):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(one_epoch / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = tree(one_epoch)
        res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent)
        assert res.exit_code == 2
        line = one_error_line(res)
        assert f"pid {holder.pid}" in line and "snn train --epochs 3" in line
        after = tree(one_epoch)
        assert {k: v for k, v in after.items() if k != ".lock"} == {k: v for k, v in before.items() if k != ".lock"}
    finally:
        holder.kill()
        holder.wait()
    res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent, "--json")  # its lock died with it
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["resumed_from_epoch"] == 1
    assert not (one_epoch / ".lock").exists()


# ------------------------------------------------------------------------------------------------ run identity


@pytest.mark.parametrize("other", [["--lr", "0.01"], ["--batch-size", "32"]])
def test_a_killed_run_is_not_resumed_with_other_settings(one_epoch, other):
    (one_epoch / ".DONE").unlink()  # killed after its first epoch
    before = tree(one_epoch)
    res = run("train", *FAST, *other, "--epochs", "2", "--out", one_epoch.parent)
    assert res.exit_code == 2
    line = one_error_line(res)
    assert "belongs to a different run" in line and other[0][2:].replace("-", "_") in line
    assert tree(one_epoch) == before  # neither the checkpoint nor config.json was touched


# ---------------------------------------------------------------------------------------------------- full disk


def test_a_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_previous_checkpoint(one_epoch, monkeypatch):
    ckpt = one_epoch / f"{NAME}.pth"
    before = ckpt.read_bytes()
    real = atomic._write_all

    def full(fd, data):  # the disk fills half-way through the next checkpoint
        real(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", full)
    res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent)
    assert res.exit_code == 2
    line = one_error_line(res)
    assert str(ckpt) in line and "disk is full" in line and "previous version is intact" in line
    assert ckpt.read_bytes() == before and load_checkpoint(ckpt)["epoch"] == 1
    leftovers = [p.name for p in one_epoch.iterdir() if p.name.endswith(".tmp") or p.name == ".lock"]
    assert leftovers == []
    assert all(p.stat().st_size > 0 for p in one_epoch.iterdir() if p.name != ".DONE")


def test_temporary_files_of_a_killed_writer_are_cleaned_by_the_next_run(one_epoch):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = one_epoch / f".{NAME}.pth.{dead.pid}-0123abcd.tmp"
    stale.write_bytes(b"half a checkpoint")
    res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent)
    assert res.exit_code == 0, res.output
    assert not stale.exists()


def test_an_allocation_failure_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch):
    import snncli.engine.trainer as trainer

    def absurd(cfg, data):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 3136000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(trainer, "build_model", absurd)
    res = run("train", *FAST, "--epochs", "1", "--out", tmp_path / "runs")
    assert res.exit_code == 2
    line = one_error_line(res)
    assert "not enough memory (it asked for 3.1 TB)" in line and "--hidden-dim" in line
    assert list(tmp_path.iterdir()) == []  # no run folder, no config.json


# ------------------------------------------------------------------------------------------ non-finite numbers


def test_nan_weights_in_a_checkpoint_are_refused_on_resume(one_epoch):
    ckpt = one_epoch / f"{NAME}.pth"
    data = load_checkpoint(ckpt)
    name = next(iter(data["model"]))
    data["model"][name] = torch.full_like(data["model"][name], float("nan"))
    save_checkpoint(ckpt, {k: v for k, v in data.items() if k != "format"})
    (one_epoch / ".DONE").unlink()
    before = tree(one_epoch)
    res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent)
    assert res.exit_code == 2
    assert "non-finite" in one_error_line(res) and name in res.stderr
    assert tree(one_epoch) == before


def test_a_loss_turning_nan_stops_the_run_and_keeps_the_last_good_checkpoint(one_epoch, monkeypatch):
    import snncli.engine.epoch as epoch

    real = epoch.F.cross_entropy
    monkeypatch.setattr(epoch.F, "cross_entropy", lambda logits, y: real(logits, y) * float("nan"))
    ckpt = one_epoch / f"{NAME}.pth"
    before = ckpt.read_bytes()
    res = run("train", *FAST, "--epochs", "3", "--out", one_epoch.parent)
    assert res.exit_code == 1
    line = one_error_line(res)
    assert "epoch 2, batch 1: the loss is nan" in line and "checkpoint of epoch 1 is kept" in line
    assert ckpt.read_bytes() == before


@pytest.mark.parametrize("option, value", [
    ("--lr", "inf"), ("--lr", "1e308"), ("--lr", "nan"), ("--weight-decay", "inf"), ("--enc-scale", "nan"),
    ("--enc-bias", "-inf"), ("--threshold", "inf"), ("--alpha-reg", "inf"), ("--beta", "nan"), ("--rate-reg", "inf"),
])
def test_non_finite_or_absurd_float_options_exit_2_naming_the_option(tmp_path, option, value):
    res = run("train", *FAST, option, value, "--out", tmp_path)
    assert res.exit_code == 2
    assert option in one_error_line(res)
    assert list(tmp_path.iterdir()) == []


def test_plasticity_eta_must_be_finite(tmp_path):
    res = run("plasticity", "--dataset", "synthetic", "--eta", "inf", "--out", tmp_path)
    assert res.exit_code == 2 and "--eta" in one_error_line(res)
    assert list(tmp_path.iterdir()) == []


def test_every_float_setting_of_every_command_refuses_nan_and_infinities():
    from pydantic import ValidationError

    from snncli import config
    from snncli.config.bench import BenchConfig
    from snncli.config.plasticity import PlasticityConfig

    models = [config.TrainConfig, config.CrossvalConfig, PlasticityConfig, BenchConfig, config.BackboneConfig,
              config.AttackConfig, config.HessianConfig, config.LandscapeConfig, config.GradflowConfig,
              config.AnalyzeConfig]
    checked = 0
    for model in models:
        for name, info in model.model_fields.items():
            if "float" not in str(info.annotation):
                continue
            for bad in (float("nan"), float("inf"), -float("inf")):
                value = [bad] if "list" in str(info.annotation) else (bad, 1.0) if "tuple" in str(info.annotation) else bad
                with pytest.raises(ValidationError) as err:
                    model.__pydantic_validator__.validate_assignment(model.model_construct(), name, value)
                assert any(e["loc"][0] == name for e in err.value.errors()), (model.__name__, name)
                checked += 1
    assert checked >= 60


# ---------------------------------------------------------------------------------------------- malicious pickles


def test_a_malicious_checkpoint_is_not_run_on_resume(one_epoch, monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = one_epoch.parent / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": "snncli-checkpoint-v1", "model": Evil(), "epoch": 1}, one_epoch / f"{NAME}.pth")
    (one_epoch / ".DONE").unlink()
    res = run("train", *FAST, "--epochs", "2", "--out", one_epoch.parent)
    assert res.exit_code == 2 and "refused" in one_error_line(res)
    assert not marker.exists()
    for command in (["gradflow", one_epoch], ["hessian", one_epoch], ["attack", "pgd", one_epoch],
                    ["plasticity", "--checkpoint", one_epoch, "--out", one_epoch.parent / "p"]):
        res = run(*command)
        assert res.exit_code == 2 and "refused" in one_error_line(res), command
    assert not marker.exists() and not (one_epoch.parent / "p").exists()


def test_plasticity_refuses_a_malicious_post_training_state_and_names_its_folder_after_the_checkpoint(
        one_epoch, tmp_path, monkeypatch):
    args = ["plasticity", "--checkpoint", one_epoch / f"{NAME}.pth", "--post-epochs", "1", "--max-batches", "2",
            "--out", tmp_path / "p"]
    res = run(*args, "--json")
    assert res.exit_code == 0, res.output
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    assert run_dir == tmp_path / "p" / f"plasticity_from_{NAME}" / "hebb"
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"layers.0.weight": Evil()}, run_dir / "post_training" / "eta1e-05.pt")
    res = run(*args)
    assert res.exit_code == 2 and "refused" in one_error_line(res) and "eta1e-05.pt" in res.stderr
    assert not marker.exists()


# ------------------------------------------------------------------------------------------ SIGKILL of a parent


def _fold_holders(root: Path) -> dict[int, int]:
    """``{fold: pid}`` of the worker processes holding fold locks below ``root``."""
    holders = {}
    for lock in root.glob("fold*/.lock"):
        try:
            holders[int(lock.parent.name[4:])] = json.loads(lock.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            pass
    return holders


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_killing_the_crossval_parent_kills_its_workers(tmp_path):
    cmd = [sys.executable, "-m", "snncli", "crossval", *FAST[:-2], "--epochs", "500", "--k-folds", "2", "--jobs", "2",
           "--threads", "1", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    parent = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = tmp_path / f"crossval_{NAME}_k2"
    try:
        deadline = time.time() + 240
        while time.time() < deadline:  # both workers hold their fold and have finished an epoch
            holders = _fold_holders(root)
            if len(holders) == 2 and all((root / f"fold{i}" / "metrics.jsonl").exists() for i in holders):
                break
            assert parent.poll() is None, "crossval ended before the workers were seen"
            time.sleep(0.2)
        else:
            pytest.fail("the fold workers did not start in time")
        workers = set(holders.values())
        assert parent.pid not in workers
        parent.send_signal(signal.SIGKILL)  # as the OOM killer does: no cleanup in the parent
        parent.wait()
        deadline = time.time() + 10
        while any(pid_alive(pid) for pid in workers) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(pid_alive(pid) for pid in workers), "orphaned fold workers are still running"
        before = tree(root)
        time.sleep(1.5)
        assert tree(root) == before  # nothing writes there any more
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in _fold_holders(root).values():
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
