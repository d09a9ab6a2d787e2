"""Provenance: result.json and checkpoints say which code, packages, machine and command produced a run."""

import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import snncli
from snncli.config import TrainConfig
from snncli.engine import find_checkpoint, load_checkpoint, train
from snncli.engine.provenance import command_line, git_revision, provenance

ROOT = Path(snncli.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("prov")
    cfg = TrainConfig(dataset="synthetic", model="mlp", hidden_dim=16, T=3, epochs=1, max_batches=2, out=out)
    return train(cfg)


def test_result_json_and_checkpoint_carry_provenance(result):
    stored = json.loads((Path(result["run_dir"]) / "result.json").read_text())
    prov = stored["provenance"]
    assert prov["packages"]["torch"] == torch.__version__
    assert prov["packages"]["numpy"] == np.__version__
    assert prov["packages"]["snncli"] == snncli.__version__
    assert prov["packages"]["snntorch"]  # installed: a version string
    assert prov["python"] == platform.python_version()
    assert prov["device"] == "cpu" and prov["device_name"] == prov["cpu"] and prov["cpu"]
    assert prov["command"] == command_line(sys.argv)
    assert stored["config"]["hidden_dim"] == 16 and stored["config"]["T"] == 3
    ckpt = load_checkpoint(find_checkpoint(result["run_dir"]))
    assert ckpt["provenance"] == prov
    assert ckpt["input"] == {"shape": [1, 28, 28], "num_classes": 10, "classes": ckpt["input"]["classes"],
                             "dataset": "synthetic"}
    assert len(ckpt["input"]["classes"]) == 10


def test_git_revision_of_a_checkout():
    if not (ROOT / ".git").exists():
        pytest.skip("snncli is not running from a git checkout")
    git_revision.cache_clear()  # cached per process: HEAD may have moved since an earlier test trained
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    rev = git_revision()
    assert rev["commit"] == head and isinstance(rev["dirty"], bool)
    assert provenance()["git"] == rev


def test_command_line_quotes_arguments():
    assert command_line(["/usr/bin/snn", "train", "--out", "my runs"]) == "snn train --out 'my runs'"
