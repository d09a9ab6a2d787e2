"""What snn guarantees about its files: atomic writes with umask modes, a full disk as one line, stale temporary
files cleaned, run-folder locks, valid JSON, safe loads, no stray writer or loader anywhere in the package."""

from __future__ import annotations

import ast
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import snncli
from snncli import atomic
from snncli.atomic import WriteError, clean_stale_temps, write_bytes_atomic
from snncli.engine.checkpoint import CheckpointError, load_checkpoint, load_weights, save_checkpoint
from snncli.engine.locks import RunLock, RunLockedError
from snncli.engine.writers import json_text, write_json, write_torch

PACKAGE = Path(snncli.__file__).parent


def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.expr) -> str:
    """``torch.load`` for ``torch.load(...)``, ``.write_text`` for ``x.write_text(...)``, ``open`` for ``open(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return f"{func.value.id}.{func.attr}" if isinstance(func.value, ast.Name) else f".{func.attr}"
    return ""


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


# ------------------------------------------------------------------------------------------ the package, grepped


def test_every_torch_load_passes_weights_only_true():
    loads = []
    for path in _sources():
        for call in _calls(path):
            name = _name(call.func)
            if name == "torch.load":
                kw = {k.arg: k.value for k in call.keywords}
                ok = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
                loads.append((path.relative_to(PACKAGE), call.lineno, ok))
            assert name not in ("pickle.load", "pickle.loads", "torch.jit.load"), f"{path}:{call.lineno}: {name}"
            if name in ("np.load", "numpy.load"):
                kw = {k.arg: k.value for k in call.keywords}
                assert not (isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value), \
                    f"{path}:{call.lineno}: np.load(allow_pickle=True)"
    assert loads, "the checkpoint loader should be found"
    assert all(ok for *_, ok in loads), [f"{p}:{line}" for p, line, ok in loads if not ok]


#: The modules allowed to put bytes on disk themselves, and why.
WRITERS = {
    "atomic.py": "the atomic primitive itself",
    "engine/writers.py": "torch.save / np.savez into memory, then the primitive",
    "plots/_figure.py": "savefig into memory, then the primitive",
    "engine/locks.py": "the lock file (os.open + flock), removed on release",
    "engine/bench.py": "writes /proc/self/clear_refs to reset the peak RSS (not a file)",
    "neurons/_native.py": "the C compiler writes the kernel library to a temp file beside it, renamed into place",
}
WRITE_CALLS = {"torch.save", "np.save", "np.savez", "np.savez_compressed", "numpy.save", "numpy.savez", ".write_text",
               ".write_bytes", ".savefig", "tempfile.mkstemp", "os.open", ".touch", "shutil.copyfile", "shutil.copy",
               "shutil.copy2", "shutil.move", "os.rename"}


def _writes_with_open(call: ast.Call) -> bool:
    args = list(call.args[1:2]) + [k.value for k in call.keywords if k.arg == "mode"]
    return any(isinstance(a, ast.Constant) and isinstance(a.value, str) and set(a.value) & set("wax+") for a in args)


def test_every_file_is_written_through_the_atomic_writers():
    stray = []
    for path in _sources():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in WRITERS:
            continue
        for call in _calls(path):
            name = _name(call.func)
            if name in WRITE_CALLS or (name in ("open", ".open") and _writes_with_open(call)) or name == "os.fdopen":
                stray.append(f"{rel}:{call.lineno}: {name}")
    assert not stray, "write through snncli.engine.writers / snncli.atomic: " + "; ".join(stray)


# ------------------------------------------------------------------------------------------------- atomic files


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_file_modes_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        save_checkpoint(tmp_path / "c.pth", {"w": torch.ones(2)})
        write_bytes_atomic(tmp_path / "sub" / "b.bin", b"1")
    finally:
        os.umask(old)
    for name in ("a.json", "c.pth", "sub/b.bin"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert (tmp_path / "sub").stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_full_disk_keeps_the_previous_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "run.pth"
    save_checkpoint(path, {"epoch": 1, "w": torch.ones(1000)})
    before = path.read_bytes()
    real = atomic._write_all

    def half_then_full(fd, data):
        real(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", half_then_full)
    with pytest.raises(WriteError) as err:
        save_checkpoint(path, {"epoch": 2, "w": torch.zeros(1000)})
    assert "disk is full" in str(err.value) and "\n" not in str(err.value) and str(path) in str(err.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pth"]


def test_stale_temporary_files_of_dead_writers_are_cleaned(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.pth.{dead.pid}-0123abcd.tmp"
    mine = tmp_path / f".run.pth.{os.getpid()}-0123abcd.tmp"
    other = tmp_path / ".hidden.tmp"  # not a temporary name of ours
    for p in (stale, mine, other):
        p.write_bytes(b"")
    assert clean_stale_temps(tmp_path) == [stale]
    assert mine.exists() and other.exists() and not stale.exists()


def test_json_is_always_valid_non_finite_numbers_become_null_and_are_listed(tmp_path):
    text = json_text({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}, "e": 2})
    data = json.loads(text)  # the stdlib parser accepts NaN; a strict one must too:
    assert "NaN" not in text and "Infinity" not in text
    assert data == {"a": None, "b": [1.0, None], "c": {"d": None}, "e": 2, "non_finite": ["a", "b[1]", "c.d"]}
    write_json(tmp_path / "r.json", {"loss": float("nan")})
    assert json.loads((tmp_path / "r.json").read_text()) == {"loss": None, "non_finite": ["loss"]}


# ------------------------------------------------------------------------------------------------------- loads


class Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious(path: Path, marker: Path, as_checkpoint: bool = True, raw_pickle: bool = False) -> Path:
    payload = {"format": "snncli-checkpoint-v1", "model": Evil(marker)} if as_checkpoint else {"w": Evil(marker)}
    if raw_pickle:
        import pickle

        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    return path


@pytest.mark.parametrize("raw_pickle", [False, True], ids=["torch-zip", "raw-pickle"])
@pytest.mark.parametrize("loader", [load_checkpoint, load_weights], ids=["load_checkpoint", "load_weights"])
def test_malicious_pickles_are_refused_even_when_torch_is_told_to_trust_them(tmp_path, monkeypatch, loader, raw_pickle):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "pwned"
    path = _malicious(tmp_path / "x.pth", marker, raw_pickle=raw_pickle)
    with pytest.raises(CheckpointError) as err:
        loader(path)
    message = str(err.value)
    assert not marker.exists()
    # a torch file names the callable it would run ("refused ... posix.system"); a raw pickle is unreadable to torch
    assert ("refused" in message and "posix.system" in message) if not raw_pickle else "unreadable" in message
    assert "\n" not in message
    assert "weights_only=False" not in message and "Re-running" not in message  # no advice to turn safety off


def test_the_backbone_loader_refuses_malicious_pickles(tmp_path, monkeypatch):
    from snncli.engine import backbone

    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "pwned"
    with pytest.raises(CheckpointError, match="refused"):
        backbone.load_backbone(_malicious(tmp_path / "resnet.pt", marker), torch.device("cpu"))
    assert not marker.exists()


def test_the_cifar_reader_refuses_malicious_pickles(tmp_path, monkeypatch):
    from snncli.data.cifar import read_cifar_batch
    from snncli.data.errors import CorruptDatasetError

    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "pwned"
    path = _malicious(tmp_path / "data_batch_1", marker, as_checkpoint=False, raw_pickle=True)
    with pytest.raises(CorruptDatasetError):
        read_cifar_batch(path)
    assert not marker.exists()


# ------------------------------------------------------------------------------------------------------- locks

HOLD = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"pid": os.getpid(), "host": "testhost", "command": "snn train --epochs 9"}).encode())
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """A process (not importing torch: starts in milliseconds) holding ``tmp_path/run/.lock`` as RunLock does."""
    if sys.platform == "win32":
        pytest.skip("flock")
    folder = tmp_path / "run"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder / ".lock")], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield folder, proc
    proc.kill()
    proc.wait()


def test_a_held_folder_is_refused_naming_the_holder(holder):
    folder, proc = holder
    with pytest.raises(RunLockedError) as err:
        RunLock(folder).acquire()
    assert f"pid {proc.pid} on testhost" in str(err.value) and "snn train --epochs 9" in str(err.value)


def test_the_lock_of_a_killed_process_is_taken_over(holder):
    folder, proc = holder
    proc.kill()
    proc.wait()
    with RunLock(folder) as lock:
        assert json.loads((folder / ".lock").read_text())["pid"] == os.getpid() and lock.held
    assert not (folder / ".lock").exists()


def test_a_lock_file_without_a_live_holder_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".lock").write_text(json.dumps({"pid": 999_999_999, "command": "snn train"}))
    with RunLock(folder):
        pass
    assert list(folder.iterdir()) == []


def test_a_refused_or_failed_run_leaves_no_folder_behind(tmp_path):
    deep = tmp_path / "a" / "b" / "run"
    with pytest.raises(ZeroDivisionError):
        with RunLock(deep):
            1 / 0
    assert list(tmp_path.iterdir()) == []
    with RunLock(deep) as lock:
        write_torch(deep / "x.pt", {"w": torch.ones(1)})
        lock.keep_folder()
    assert sorted(p.name for p in deep.iterdir()) == ["x.pt"]
