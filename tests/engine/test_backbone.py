"""The frozen ResNet-32 backbone: architecture, augmentation, training, feature cache, --use-resnet."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from snncli.cli.app import app
from snncli.engine.backbone import _augment
from snncli.models.resnet import ResNet32

runner = CliRunner()


def test_resnet32_shape_and_truncated_features():
    model = ResNet32(10)
    assert [len(s) for s in (model.stage1, model.stage2, model.stage3)] == [5, 5, 5]
    convs = sum(1 for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3))
    assert convs + 1 == 32  # 31 3x3 convolutions + the classifier: ResNet-32
    x = torch.rand(3, 3, 32, 32)
    assert model.features(x).shape == (3, 512) and model(x).shape == (3, 10)


def test_augment_is_a_padded_crop_or_its_mirror():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 32, 32)
    out = _augment(x, gen)
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    for i in range(6):
        crops = [padded[i, :, dy:dy + 32, dx:dx + 32] for dy in range(9) for dx in range(9)]
        assert any(torch.equal(out[i], c) or torch.equal(out[i], c.flip(-1)) for c in crops)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "snncli"


def test_use_resnet_needs_a_backbone(cache, tmp_path):
    res = runner.invoke(app, ["train", "--dataset", "synthetic-cifar", "--use-resnet", "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2
    assert "snn backbone train --dataset synthetic-cifar" in res.output
    res = runner.invoke(app, ["train", "--dataset", "synthetic", "--use-resnet", "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2 and "CIFAR dataset" in res.output


def test_backbone_train_then_use_resnet_end_to_end(cache, tmp_path):
    res = runner.invoke(app, ["backbone", "train", "--dataset", "synthetic-cifar", "--epochs", "1",
                              "--batch-size", "100", "--json"])
    assert res.exit_code == 0, res.output
    stored = json.loads(res.stdout)
    assert Path(stored["path"]) == cache / "backbones" / "resnet32_synthetic-cifar.pt"
    args = ["train", "--dataset", "synthetic-cifar", "--model", "mixer", "--hidden-dim", "64", "--T", "4",
            "--batch-size", "50", "--epochs", "1", "--use-resnet", "--json"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert Path(result["run_dir"]).name.startswith("resnet_synthetic-cifar_mixer")
    assert result["backbone_hash"] == stored["hash"]
    assert result["parameters"] == 512 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10  # the SNN reads 512 features
    features = cache / "features" / f"synthetic-cifar_resnet32_{stored['hash']}.pt"
    assert features.is_file()
    second = json.loads(runner.invoke(app, [*args, "--out", str(tmp_path / "b")]).stdout)
    assert second["data_source"].endswith("(cached)")  # computed once, then read
    assert second["test_acc"] == result["test_acc"]


def test_crossval_with_resnet_features_splits_the_features(cache, tmp_path):
    runner.invoke(app, ["backbone", "train", "--dataset", "synthetic-cifar", "--epochs", "1", "--batch-size", "100"])
    res = runner.invoke(app, ["crossval", "--dataset", "synthetic-cifar", "--model", "index", "--hidden-dim", "32",
                              "--T", "4", "--batch-size", "50", "--epochs", "1", "--k-folds", "2", "--use-resnet",
                              "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [f["fold"] for f in report["folds"]] == [0, 1] and not report["failed"]
    fold_results = [json.loads((Path(f["run_dir"]) / "result.json").read_text()) for f in report["folds"]]
    assert [r["train_samples"] for r in fold_results] == [500, 500]  # 1000 images, two folds
    assert all(r["name"].startswith("resnet_") for r in fold_results)


def test_backbone_train_max_batches_is_a_smoke_run(cache, tmp_path):
    res = runner.invoke(app, ["backbone", "train", "--dataset", "synthetic-cifar", "--epochs", "1", "--batch-size", "8",
                              "--max-batches", "2", "--out", str(tmp_path / "b.pt"), "--json"])
    assert res.exit_code == 0, res.output
    stored = torch.load(tmp_path / "b.pt", weights_only=False)
    assert stored["max_batches"] == 2 and len(stored["history"]) == 1
    assert runner.invoke(app, ["backbone", "train", "--max-batches", "0"]).exit_code == 2
