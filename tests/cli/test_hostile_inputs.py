"""Every command, driven with bad input as a hostile (or tired) user would: each case must exit 2 with one
``snn: error:`` line on stderr, no traceback, nothing on stdout, and nothing written anywhere.

The table covers the kinds of #11: non-finite and absurd numbers, huge integers, click parse errors,
non-UTF-8 / BOM / binary / malformed config and grid files, unusable ``--out``, broken and forged run
folders and checkpoints (truncated, foreign, mismatched, NaN, malicious pickles), and bounds the data decides
(``--k-folds``, ``--top-k``, ``--index``). Float cases are generated from the config models, so a new float
setting is fuzzed the moment it is declared.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import torch
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.config import BackboneConfig, GradflowConfig, HessianConfig, LandscapeConfig, TrainConfig
from snncli.config.bench import BenchConfig
from snncli.config.setting import flags_of

#: The session's trained run (tests/trained.py) as ``snn train`` flags: the same settings, so a copy resumes.
TRAINED = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "32", "--T", "4", "--batch-size", "64",
           "--lr", "3e-3", "--seed", "0"]
RUN_NAME = "synthetic_mlp_p0.15_T4_current"
FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "4", "--epochs", "1"]
COPY = "{sb}/runs/" + RUN_NAME  # the sandbox's copy of the trained run, when a case breaks it


@dataclass
class Case:
    command: str
    args: list[str]
    setup: Callable[[Path], None] | None = None
    copy_run: bool = False
    id: str = field(default="")


CASES: list[Case] = []


def case(command: str, *args: str, setup: Callable[[Path], None] | None = None, copy_run: bool = False) -> None:
    CASES.append(Case(command, list(args), setup, copy_run or any(COPY in a for a in args)))


def write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def make(sb: Path) -> None:
        path = sb / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return make


def both(*makers: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(sb: Path) -> None:
        for m in makers:
            m(sb)
    return make


# ------------------------------------------------------------------------------------- 1. click parse errors

COMMANDS = {  # command -> the arguments it needs besides the bad one
    "train": [], "dst": [], "crossval": [], "plasticity": [], "bench": [], "info": [],
    "attack": ["pgd", "{trained}"], "hessian": ["{trained}"], "landscape": ["{trained}"], "gradflow": ["{trained}"],
    "visualize": ["curves", "{trained}"], "analyze": ["{trained}"], "backbone train": [], "sweep": ["--grid", "lr=0.1"],
    "sweep summarize": ["{sb}"],
}
for cmd, needed in COMMANDS.items():
    case(cmd, *needed, "--no-such-option", "1")
INT_OPTION = {"train": "--epochs", "dst": "--update-every", "crossval": "--k-folds", "plasticity": "--post-epochs",
              "bench": "--repeats", "attack": "--steps", "hessian": "--top-k", "landscape": "--resolution",
              "gradflow": "--batches", "visualize": "--index", "analyze": "--steps", "backbone train": "--epochs",
              "sweep": "--jobs"}
for cmd, option in INT_OPTION.items():
    case(cmd, *COMMANDS[cmd], option, "abc")
    case(cmd, *COMMANDS[cmd], option, "1.5")
case("info", "extra-argument")
case("sweep summarize")  # missing DIR
case("attack")  # missing ATTACK and RUNS
case("hessian")  # missing RUN
case("visualize", "{trained}")  # missing RUN (the run is taken as WHAT)
case("nonexistent-command")
case("train", "--lr")  # option without its value

# ----------------------------------------------------------------------- 2. non-finite and absurd floats

FLOAT_COMMANDS = [("train", TrainConfig, []), ("bench", BenchConfig, []), ("backbone train", BackboneConfig, []),
                  ("hessian", HessianConfig, ["{trained}"]), ("landscape", LandscapeConfig, ["{trained}"]),
                  ("gradflow", GradflowConfig, ["{trained}"])]
for cmd, model, needed in FLOAT_COMMANDS:
    for name, info in model.model_fields.items():
        if "float" not in str(info.annotation) or "tuple" in str(info.annotation):
            continue
        flag = flags_of(name, info)[0][0]
        values = ["inf", "nan"] if cmd == "train" else ["inf"]
        values += ["-inf"] if cmd == "train" else []
        bounded = [m for m in info.metadata if type(m).__name__ in ("Le", "Lt")]
        values += ["1e308"] if bounded else []
        for value in values:
            case(cmd, *needed, flag, value)
for cmd, needed in [("dst", []), ("crossval", []), ("sweep", ["--grid", "seed=1,2"])]:
    for flag in ("--lr", "--threshold", "--enc-scale"):
        case(cmd, *needed, flag, "inf")
case("plasticity", "--eta", "inf")
case("plasticity", "--eta", "nan")
case("plasticity", "--eta", "1e-5", "--eta", "-1")
case("plasticity", "--eta", "1e308")
case("plasticity", "--tau", "inf")
case("plasticity", "--stdp-eta", "nan")
case("plasticity", "--lr", "inf")
case("plasticity", "--weight-clip", "inf")
case("attack", "pgd", "{trained}", "--eps", "inf")
case("attack", "pgd", "{trained}", "--eps", "nan")
case("attack", "pgd", "{trained}", "--eps", "1/0")
case("attack", "pgd", "{trained}", "--alpha", "inf")
case("attack", "spsa", "{trained}", "--spsa-lr", "nan")
case("analyze", "{trained}", "--eps", "inf")
case("train", "--conv-pool-ratio", "inf:1", "--model", "vgg6")
case("train", "--conv-pool-ratio", "nan:1", "--model", "vgg6")
case("train", "--width", "1e308", "--model", "vgg6")

# --------------------------------------------------------------------------------- 3. absurd integers, shapes

case("train", "--seed", "123456789012345678901234567890")
case("train", "--seed", "-1")
case("crossval", "--seed", "99999999999999999999")
case("hessian", "{trained}", "--seed", "123456789012345678901234567890")
case("bench", "--seed", "-5")
case("backbone train", "--seed", "1" * 30)
case("train", "--in-shape", "0,28,28")
case("train", "--in-shape", "1,28")
case("train", "--in-shape", "a,b,c")
case("train", "--in-shape", "1,-28,28")
case("train", "--in-shape", "3,100000,100000")
case("train", "--T", "0")
case("train", "--T", "100000000")
case("train", "--hidden-dim", "0")
case("train", "--hidden-dim", "10000000000")
case("train", "--batch-size", "0")
case("train", "--batch-size", "99999999999")
case("train", "--epochs", "0")
case("train", "--epochs", "1" * 25)
case("train", "--groups", "0")
case("train", "--threads", "0")
case("train", "--threads", "100000")
case("train", "--hebb-window", "10000000000")
case("dst", "--update-every", "0")
case("crossval", "--k-folds", "1")
case("crossval", "--k-folds", "100000")
case("crossval", *FAST, "--k-folds", "5000", "--out", "{sb}/out")  # more folds than the 1800 training samples
case("crossval", "--jobs", "0")
case("plasticity", "--post-epochs", "0")
case("plasticity", "--hidden-dim", "-3")
case("bench", "--hidden-dim", "0")
case("bench", "--T", "99999999")
case("bench", "--repeats", "0")
case("attack", "pgd", "{trained}", "--sample-size", "0")
case("attack", "pgd", "{trained}", "--eot", "100000")
case("hessian", "{trained}", "--top-k", "0")
case("hessian", "{trained}", "--top-k", "50000")  # more than the run's 25 450 parameters
case("hessian", "{trained}", "--density-steps", "90000")
case("landscape", "{trained}", "--resolution", "4")
case("landscape", "{trained}", "--resolution", "100001")
case("landscape", "{trained}", "--dims", "3")
case("visualize", "raster", "{trained}", "--index", "100000")  # past the 500 test samples
case("visualize", "raster", "{trained}", "--samples", "17")
case("analyze", "{trained}", "--resolution", "2")

# --------------------------------------------------------------------------------------- 4. bad choices

case("train", "--model", "no-such-model")
case("train", "--dataset", "no-such-data")
case("train", "--enc", "morse")
case("train", "--surrogate", "nope")
case("train", "--optimizer", "lbfgs")
case("train", "--sparsity", "dynamic", "--model", "mlp")
case("train", "--spiking", "maybe", "--model", "vgg6")
case("train", "--use-resnet", "--dataset", "synthetic")
case("train", "--data-root", "{sb}/no-such-folder")
case("train", "--backbone", "{sb}/no-such.pt", "--dataset", "synthetic-cifar", "--use-resnet")
case("dst", "--cp", "nope", "--model", "mixer")
case("plasticity", "--rule", "nope")
case("plasticity", "--baseline", "nope")
case("attack", "nope", "{trained}")
case("attack", "pgd", "{sb}/no-such-run")
case("visualize", "nope", "{trained}")
case("analyze", "{trained}", "--skip", "nope")
case("landscape", "{trained}", "--directions", "nope")
case("backbone train", "--dataset", "synthetic")
case("sweep", "--grid", "no_such_setting=1,2")
case("sweep", "--grid", "lr")
case("sweep", "--grid", "out=a,b")
case("sweep", "--grid", "lr=")
case("sweep")  # no grid at all
case("sweep", "--grid", "lr=inf,nan", *FAST, "--out", "{sb}/out")  # every point invalid
case("sweep summarize", "{sb}/no-such-folder")
case("sweep summarize", "{sb}")  # no runs below it
case("sweep summarize", "{trained}/..", "--hue", "no_such_setting")

# ------------------------------------------------------------------------------- 5. config and grid files

CONFIG_FILES = {
    "latin1.json": '{"lr": 0.1, "model": "caf\xe9"}'.encode("latin-1"),
    "utf16.json": '{"lr": 0.1}'.encode("utf-16"),
    "bom-broken.json": b'\xef\xbb\xbf{"lr": ',
    "bom-bad-value.json": b'\xef\xbb\xbf{"lr": "fast"}',
    "nul.yaml": b"lr: 0.1\x00\x00",
    "binary.toml": bytes(range(256)),
    "empty.json": b"",
    "empty.yaml": b"",
    "list.json": b"[1, 2, 3]",
    "scalar.yaml": b"42",
    "unknown-key.json": b'{"learning_rat": 0.1}',
    "wrong-type.json": b'{"epochs": "many"}',
    "nan.json": b'{"lr": NaN}',
    "inf.yaml": b"lr: .inf\n",
    "neg-inf.toml": b"lr = -inf\n",
    "python-tag.yaml": b"lr: !!python/object/apply:os.system ['touch pwned']\n",
    "tabs.yaml": b"lr:\t\t- [\n",
    "broken.toml": b"lr = = 1\n",
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "config.ini": b"[train]\nlr = 0.1\n",
    "nested-bad.json": b'{"in_shape": [0, 28, 28]}',
    "huge-seed.json": b'{"seed": 123456789012345678901234567890}',
}
for name, data in CONFIG_FILES.items():
    case("train", "--config", "{sb}/" + name, "--out", "{sb}/out", setup=write(name, data))
for cmd, needed in [("crossval", []), ("plasticity", []), ("bench", []), ("hessian", ["{trained}"]),
                    ("attack", ["pgd", "{trained}"]), ("sweep", ["--grid", "seed=1,2"])]:
    for name in ("latin1.json", "bom-broken.json", "nan.json"):
        case(cmd, *needed, "--config", "{sb}/" + name, setup=write(name, CONFIG_FILES[name]))
case("train", "--config", "{sb}/no-such.json")
case("train", "--config", "{sb}")  # a folder
GRID_FILES = {
    "latin1.json": '{"grid": {"lr": [0.1]}, "base": {"model": "caf\xe9"}}'.encode("latin-1"),
    "bom-broken.json": b'\xef\xbb\xbf{"grid": ',
    "nul.json": b'{"grid": {"lr": [0.1]}}\x00',
    "no-grid.json": b'{"base": {"lr": 0.1}}',
    "grid-list.json": b'{"grid": [1, 2]}',
    "extra-key.json": b'{"grid": {"lr": [0.1]}, "jobs": 4}',
    "unknown-axis.yaml": b"grid:\n  no_such: [1, 2]\n",
    "empty-axis.yaml": b"grid:\n  lr: []\n",
    "out-axis.json": b'{"grid": {"out": ["a", "b"]}}',
    "nan-axis.json": b'{"grid": {"lr": [NaN, Infinity]}, "base": {"dataset": "synthetic"}}',
}
for name, data in GRID_FILES.items():
    case("sweep", "{sb}/grid-" + name, "--out", "{sb}/out", setup=write("grid-" + name, data))
case("sweep", "{sb}/no-such-grid.json")

# ---------------------------------------------------------------------------------------- 6. unusable --out

A_FILE = write("afile", b"not a folder")
UNDER_PROC = "/proc/1/snn-cannot-create-this"
for cmd, needed in [("train", FAST), ("dst", ["--model", "mixer", *FAST[4:]]), ("crossval", FAST), ("plasticity", []),
                    ("sweep", ["--grid", "lr=0.1,0.2"]), ("gradflow", ["{trained}"]), ("hessian", ["{trained}"]),
                    ("landscape", ["{trained}"]), ("visualize", ["curves", "{trained}"]), ("attack", ["pgd", "{trained}"]),
                    ("analyze", ["{trained}"])]:
    case(cmd, *needed, "--out", "{sb}/afile", setup=A_FILE)
    case(cmd, *needed, "--out", "{sb}/afile/below", setup=A_FILE)
case("train", *FAST, "--out", UNDER_PROC)
case("backbone train", "--out", "{sb}", "--dataset", "synthetic-cifar")  # a folder, not a file
case("backbone train", "--out", "{sb}/afile/resnet.pt", "--dataset", "synthetic-cifar", setup=A_FILE)
case("sweep summarize", "{sb}/afile", setup=A_FILE)


# ------------------------------------------------------------------------ 7. broken and forged run folders

def _ckpt(sb: Path) -> Path:
    return sb / "runs" / RUN_NAME / f"{RUN_NAME}.pth"


def forge(change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Rewrite the copied run's checkpoint after ``change(payload)``."""
    def make(sb: Path) -> None:
        path = _ckpt(sb)
        data = torch.load(path, weights_only=True)
        change(data)
        torch.save(data, path)
    return make


def nan_weight(data: dict) -> None:
    key = next(iter(data["model"]))
    data["model"][key] = torch.full_like(data["model"][key], float("nan"))


def inf_moment(data: dict) -> None:
    state = next(iter(data["optimizer"]["state"].values()))
    state["exp_avg"] = torch.full_like(state["exp_avg"], float("inf"))


def wrong_moment_shape(data: dict) -> None:
    state = next(iter(data["optimizer"]["state"].values()))
    state["exp_avg"] = torch.zeros(3)


def evil(sb: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {sb / 'pwned'}",))
    torch.save({"format": "snncli-checkpoint-v1", "model": Evil(), "epoch": 1}, _ckpt(sb))


def replace(name: str, data: bytes) -> Callable[[Path], None]:
    return write(f"runs/{RUN_NAME}/{name}", data)


def remove(name: str) -> Callable[[Path], None]:
    def make(sb: Path) -> None:
        (sb / "runs" / RUN_NAME / name).unlink()
    return make


RESUME = ["train", *TRAINED, "--epochs", "3", "--out", "{sb}/runs"]  # extends the copy: reads its checkpoint
RETURN = ["train", *TRAINED, "--epochs", "2", "--out", "{sb}/runs"]  # returns the copy: reads its result
FORGED = {
    "truncated": lambda sb: _ckpt(sb).write_bytes(_ckpt(sb).read_bytes()[:500]),
    "random-bytes": lambda sb: _ckpt(sb).write_bytes(os.urandom(4096)),
    "empty": lambda sb: _ckpt(sb).write_bytes(b""),
    "foreign-format": forge(lambda d: d.update(format="other")),
    "missing-epoch": forge(lambda d: d.pop("epoch")),
    "epoch-text": forge(lambda d: d.update(epoch="two")),
    "negative-epoch": forge(lambda d: d.update(epoch=-1)),
    "history-short": forge(lambda d: d.update(history=d["history"][:1])),
    "history-not-list": forge(lambda d: d.update(history={"a": 1})),
    "config-not-dict": forge(lambda d: d.update(config=[1])),
    "other-settings": forge(lambda d: d["config"].update(lr=0.5)),
    "mismatched-weights": forge(lambda d: d["model"].update({k: torch.zeros(2, 2) for k in list(d["model"])[:1]})),
    "missing-weights": forge(lambda d: d.update(model={})),
    "foreign-optimizer": forge(lambda d: d.update(optimizer={"state": {}, "param_groups": [{"params": [0]}]})),
    "wrong-moment-shape": forge(wrong_moment_shape),
    "nan-weights": forge(nan_weight),
    "inf-optimizer-state": forge(inf_moment),
    "malicious-pickle": evil,
}
for name, make in FORGED.items():
    case(*RESUME, setup=make, copy_run=True)
case(*RETURN, setup=replace("result.json", b"{not json"), copy_run=True)
case(*RETURN, setup=replace("result.json", b"[1, 2]"), copy_run=True)
case(*RETURN, setup=replace("result.json", b'{"test_acc": 0.5, "m": "\xe9"}'), copy_run=True)
case(*RETURN, setup=replace("config.json", b""), copy_run=True)
case(*RETURN, setup=replace("config.json", b'{"epochs": "two"}'), copy_run=True)
case(*RETURN, setup=replace("config.json", b'\xef\xbb\xbf{"lr": 0.9}'), copy_run=True)  # BOM, other settings
case(*RESUME, setup=both(remove(f"{RUN_NAME}.pth"), lambda sb: _ckpt(sb).mkdir()), copy_run=True)
for name in ("truncated", "malicious-pickle", "nan-weights", "mismatched-weights", "foreign-format"):
    for cmd in (["gradflow"], ["hessian"], ["landscape"], ["visualize", "weights"], ["attack", "pgd"], ["analyze"]):
        if name in ("truncated", "nan-weights") or cmd[0] in ("hessian", "gradflow"):
            case(*cmd, COPY, setup=FORGED[name], copy_run=True)
case("plasticity", "--checkpoint", COPY, "--out", "{sb}/p", setup=FORGED["nan-weights"], copy_run=True)
case("plasticity", "--checkpoint", COPY, "--out", "{sb}/p", setup=evil, copy_run=True)
case("plasticity", "--checkpoint", "{sb}/no-such.pth", "--out", "{sb}/p")
case("plasticity", "--checkpoint", "{sb}/afile", "--out", "{sb}/p", setup=A_FILE)
case("hessian", COPY, setup=remove(f"{RUN_NAME}.pth"), copy_run=True)  # a folder without a checkpoint
case("hessian", COPY, setup=both(forge(lambda d: d.pop("config")), replace("config.json", b"{broken")),
     copy_run=True)  # no configuration in the checkpoint, a broken config.json beside it
case("hessian", COPY, setup=forge(lambda d: d["config"].update(lr=float("inf"))), copy_run=True)  # names the setting
IDX = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
case("train", "--dataset", "mnist", "--data-root", "{sb}/data", "--out", "{sb}/out",
     setup=both(*(write(f"data/{name}", b"\x00\x00\x08\x03garbage") for name in IDX)))  # CorruptDatasetError
case("crossval", "--dataset", "mnist", "--data-root", "{sb}/data", "--out", "{sb}/out",
     setup=both(*(write(f"data/{name}", os.urandom(64)) for name in IDX)))
case("sweep summarize", "{sb}/runs", setup=replace("config.json", b"{broken"), copy_run=True)
case("sweep summarize", "{sb}/runs", setup=replace("config.json", b"\xff\xfe"), copy_run=True)
case("sweep summarize", "{sb}/runs", setup=replace("result.json", b"nope"), copy_run=True)
case("sweep summarize", "{sb}/runs", setup=replace("metrics.jsonl", b'{"epoch": 1}\n{"epoch": 2, '), copy_run=True)
case("sweep summarize", "{sb}/runs", setup=write("runs/sweep.json", b"[]]"), copy_run=True)
for case_ in CASES:
    case_.id = f"{case_.command}: {' '.join(case_.args)}"[:120]


# -------------------------------------------------------------------------------------------------- the test


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file (size, mtime) and folder (existence) below ``folder``."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else (-1, 0)
            for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def trained(run_dir):
    return run_dir


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(c: Case, trained, tmp_path, monkeypatch):
    sb = tmp_path / "sandbox"
    sb.mkdir()
    monkeypatch.chdir(sb)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a stray download or cache write would show
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # even so, no pickle may run code
    if c.copy_run:
        shutil.copytree(trained, sb / "runs" / RUN_NAME, ignore=shutil.ignore_patterns("analysis"))
    if c.setup is not None:
        c.setup(sb)
    args = [a.replace("{sb}", str(sb)).replace("{trained}", str(trained)) for a in c.args]
    before, before_trained, before_cache = _files(sb), _files(trained), _files(tmp_path / "cache" / "snncli")
    res = CliRunner().invoke(app, [*c.command.split(), *args])
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.exit_code == 2, res.output
    assert len(lines) == 1 and lines[0].startswith("snn: error: "), res.stderr
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))
    assert res.stdout == ""
    assert not (sb / "pwned").exists()
    assert _files(sb) == before, "the command wrote into the sandbox"
    assert _files(trained) == before_trained, "the command wrote into the trained run"
    assert _files(tmp_path / "cache" / "snncli") == before_cache  # (matplotlib may build its font cache there)


def test_the_table_covers_every_command_with_enough_cases():
    per_command = Counter(c.command for c in CASES)
    assert set(per_command) >= set(COMMANDS) | {"nonexistent-command"}
    assert len(CASES) >= 150
    assert min(per_command[c] for c in COMMANDS) >= 2, per_command
