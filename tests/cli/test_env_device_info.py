"""SNN_* environment variables set options; --device cuda:N is accepted; snn info reports optional deps truthfully."""

import importlib
import json

import pytest
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.config import TrainConfig

FAST = ["train", "--dataset", "synthetic", "--model", "mlp", "--hidden-dim", "8", "--T", "2", "--max-batches", "1"]


def test_options_from_environment_and_flags_win(tmp_path):
    runner = CliRunner()
    env = {"SNN_TRAIN_EPOCHS": "1", "SNN_TRAIN_BATCH_SIZE": "16", "SNN_TRAIN_OUT": str(tmp_path)}
    res = runner.invoke(app, [*FAST, "--json"], env=env)
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["config"]["epochs"] == 1 and result["config"]["batch_size"] == 16
    assert result["run_dir"].startswith(str(tmp_path))
    assert result["provenance"]["environment"]["SNN_TRAIN_BATCH_SIZE"] == "16"
    other = ["--out", str(tmp_path / "b"), "--batch-size", "32", "--json"]
    again = runner.invoke(app, [*FAST, *other], env=env)  # flags win over the environment
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["config"]["batch_size"] == 32 and "/b/" in json.loads(again.stdout)["run_dir"]
    forced = runner.invoke(app, [*FAST, *other], env={**env, "SNN_TRAIN_FORCE": "1"})
    assert json.loads(forced.stdout)["status"] == "finished"  # an on/off switch from the environment


def test_bad_value_in_environment_is_one_line_exit_2(tmp_path):
    res = CliRunner().invoke(app, FAST, env={"SNN_TRAIN_DEVICE": "gpu", "SNN_TRAIN_OUT": str(tmp_path / "o")})
    assert res.exit_code == 2 and "--device" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_device_cuda_index_is_accepted_and_checked(tmp_path):
    assert TrainConfig(dataset="synthetic", device="cuda:1").device == "cuda:1"
    with pytest.raises(ValueError, match="cuda:N"):
        TrainConfig(dataset="synthetic", device="cuda:x")
    import torch

    from snncli.engine import DeviceUnavailableError, resolve_device

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(DeviceUnavailableError, match=f"torch sees {count} CUDA device"):
        resolve_device(f"cuda:{count}")
    if count:
        assert resolve_device(f"cuda:{count - 1}") == torch.device(f"cuda:{count - 1}")


def test_info_tells_whether_optional_packages_import():
    res = CliRunner().invoke(app, ["info", "--json"])
    assert res.exit_code == 0, res.output
    optional = json.loads(res.stdout)["optional"]
    assert set(optional) >= {"torchvision", "torchattacks", "pyhessian", "ray", "nir", "tensorboard"}
    for module, entry in optional.items():
        try:
            importlib.import_module(module)
            imports = True
        except Exception:
            imports = False
        assert entry["importable"] == imports, module
        assert entry["importable"] or entry["install"].startswith("pip install")
