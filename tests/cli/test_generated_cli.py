"""The commands generated from the config models: every setting an option, every spelling accepted,
help readable at 80 columns, no torch to build them, one line for a run folder of other settings."""

import json
import os
import re
import subprocess
import sys

import pytest
import typer.main
from typer.core import TyperOption
from typer.testing import CliRunner

from snncli.cli.app import app, command_tree
from snncli.config import TrainConfig
from snncli.config.setting import meta_of

ROOT = command_tree()


def commands(group=ROOT, prefix=()):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def snn(*args, columns=80):
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "snncli", *args], capture_output=True, text=True, env=env, check=True)


def test_every_train_setting_is_an_option_of_train():
    train = ROOT.commands["train"]
    names = {p.name for p in train.params}
    assert {n for n, f in TrainConfig.model_fields.items() if meta_of(f).cli} <= names


def test_train_help_at_80_columns_truncates_no_option_and_lists_each_seed_spelling_once():
    out = snn("train", "--help").stdout
    assert "…" not in out
    train = ROOT.commands["train"]
    options = [p for p in train.params if isinstance(p, TyperOption)]
    for p in options:
        assert p.opts[0] in out, p.opts[0]
        for alias in getattr(p, "hidden_opts", []):
            # Once, in the epilog; never widening the option's row.
            assert len(re.findall(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", out)) == 1, alias
    for spelling in ("--hidden_dim", "--p_inter", "--spiking_decay", "--in_dimensions", "--use_STBP", "--learning_rate"):
        assert spelling in out


@pytest.mark.parametrize("path,cmd", list(commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_spelling_of_every_option_parses_to_its_setting(path, cmd):
    """The seeds' spellings (``--hidden_dim``, ``--spiking_decay``...) and the off switches reach the same setting."""
    for p in cmd.params:
        if not isinstance(p, TyperOption) or p.name in ("help", "json_out", "config"):
            continue
        spellings = [p.opts[0], *getattr(p, "hidden_opts", [])]
        for flag in spellings:
            args = [flag] if p.is_flag else [flag, "1"]
            ctx = cmd.make_context(path[-1], [*_required(cmd), *args], resilient_parsing=True)
            assert ctx.params[p.name] not in (None, []), (path, flag)
        for off in getattr(p, "hidden_secondary", []):
            ctx = cmd.make_context(path[-1], [*_required(cmd), off], resilient_parsing=True)
            assert ctx.params[p.name] is False, (path, off)


def _required(cmd):
    return ["x" for p in cmd.params if not isinstance(p, TyperOption) and p.required]


def test_building_the_cli_imports_no_torch():
    code = ("import sys, typer.main; from snncli.cli.app import app; typer.main.get_command(app); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_registry_names_are_listed_when_help_is_shown():
    out = snn("train", "--help", columns=200).stdout
    assert "One of: dense, index, mixer, mlp" in out  # models
    assert "fast_sigmoid" in out and "synthetic-cifar" in out


FAST = ["--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "16", "--T", "3", "--batch-size", "32",
        "--max-batches", "2", "--epochs", "1"]


def test_a_changed_lr_exits_2_naming_the_keys_and_what_to_do(tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["train", *FAST, "--out", str(tmp_path), "--json"])
    assert first.exit_code == 0, first.output
    other = runner.invoke(app, ["train", *FAST, "--lr", "0.1", "--batch-size", "16", "--out", str(tmp_path), "--json"])
    assert other.exit_code == 2
    assert len(other.output.strip().splitlines()) == 1
    assert "(batch_size=32, lr=0.001; this run has batch_size=16, lr=0.1)" in other.output
    assert "use another --out, or --force" in other.output
    forced = runner.invoke(app, ["train", *FAST, "--lr", "0.1", "--out", str(tmp_path), "--force", "--json"])
    assert forced.exit_code == 0 and json.loads(forced.stdout)["status"] == "finished"


def test_any_new_error_class_is_one_line_and_exit_2_without_a_cli_edit(monkeypatch, tmp_path):
    from snncli.errors import SnnError
    from snncli.jobs import train as train_job

    class NewKindOfBadInput(SnnError):
        pass

    def fails(cfg, callbacks):
        raise NewKindOfBadInput(f"--lr: {cfg.lr} is not a learning rate this job can use")

    monkeypatch.setattr(train_job, "train", fails)
    res = CliRunner().invoke(app, ["train", *FAST, "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output == "snn: error: --lr: 0.001 is not a learning rate this job can use\n"


@pytest.mark.parametrize("args,line", [
    (["visualize", "raster", "no_such_run"], "snn: error: RUN: no such run folder or checkpoint: no_such_run\n"),
    (["attack", "pgd", "no_such_run"], "snn: error: RUNS: no such run folder or checkpoint: no_such_run\n"),
    (["visualize", ",", "."], "snn: error: WHAT: needs at least 1 value"),
    (["train", "--dataset", "synthetic", "--sparsity", "dynamic"], "snn: error: --sparsity: dynamic sparse training"),
    (["hessian"], "snn: error: RUN: missing; give it as an argument (or as --checkpoint_dir), see --help\n"),
    (["attack", "pgd", ".", "--checkpoint_dir", "."], "snn: error: RUNS: given twice, as an argument and as an option"),
])
def test_errors_name_what_the_user_typed_and_no_python_internals(args, line):
    """A positional argument by its name in --help (RUN), an option by its primary flag; values as typed."""
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and res.output.startswith(line), res.output
    assert "PosixPath" not in res.output and "(got )" not in res.output
