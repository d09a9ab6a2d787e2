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
    assert model.features(x).shape == (3, 1024) and model(x).shape == (3, 10)  # the seed's code: all stages
    assert model.features(x, cut=True).shape == (3, 512)  # its README: cut after the second stage


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
    assert "--pretrained" in res.output and "--backbone FILE" in res.output
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
    # The SNN reads 1024 features: 3 hidden layers of 64 and the readout.
    assert result["parameters"] == 1024 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10
    features = cache / "features" / f"synthetic-cifar_resnet32_whole_{stored['hash']}.pt"
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


class _CifarModelsLayout(torch.nn.Module):
    """A CIFAR ResNet-32 written independently with the key names of chenyaofo/pytorch-cifar-models
    (conv1, bn1, layerN.i.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}, fc): the layout of the
    pretrained weights the seed loads with torch.hub."""

    class Block(torch.nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(cout)
            self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False), torch.nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(out + (x if self.downsample is None else self.downsample(x)))

    def __init__(self, classes=10):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(16)
        widths = [(16, 16, 1), (16, 32, 2), (32, 64, 2)]
        for n, (cin, cout, stride) in enumerate(widths, start=1):
            setattr(self, f"layer{n}", torch.nn.Sequential(self.Block(cin, cout, stride), *(self.Block(cout, cout, 1) for _ in range(4))))
        self.fc = torch.nn.Linear(64, classes)

    def stages(self, x, upto=3):
        h = F.relu(self.bn1(self.conv1(x)))
        for n in range(1, upto + 1):
            h = getattr(self, f"layer{n}")(h)
        return h


@pytest.fixture
def pretrained_file(tmp_path):
    torch.manual_seed(0)
    net = _CifarModelsLayout(10)
    with torch.no_grad():  # non-trivial batch-norm statistics, so a wrong mapping shows
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    net.eval()
    path = tmp_path / "cifar10_resnet32.pt"
    torch.save(net.state_dict(), path)
    return net, path


def test_pretrained_layout_loads_and_gives_the_seeds_features(pretrained_file):
    from snncli.engine.backbone import load_backbone
    from snncli.models.resnet import SEED_MEAN, SEED_STD

    net, path = pretrained_file
    backbone = load_backbone(path, torch.device("cpu"))
    assert backbone.normalize == (SEED_MEAN, SEED_STD)  # the seed normalises images for these weights
    x = torch.rand(4, 3, 32, 32)
    normed = (x - torch.tensor(SEED_MEAN).view(1, 3, 1, 1)) / torch.tensor(SEED_STD).view(1, 3, 1, 1)
    for cut, upto, n in [(False, 3, 1024), (True, 2, 512)]:
        with torch.no_grad():
            raw = F.adaptive_avg_pool2d(net.stages(normed, upto), 4).flatten(1)
        expected = (raw - raw.min(1, keepdim=True).values) / (raw.max(1, keepdim=True).values - raw.min(1, keepdim=True).values + 1e-8)
        got = backbone.features(x, cut)
        assert got.shape == (4, n)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
        assert got.min() == 0 and got.max() == pytest.approx(1.0, abs=1e-6)


def test_pretrained_that_cannot_be_fetched_is_one_line_and_exit_2(cache, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(torch.hub, "load", offline)
    res = runner.invoke(app, ["train", "--dataset", "synthetic-cifar", "--use-resnet", "--pretrained",
                              "--out", str(tmp_path / "runs")])
    assert res.exit_code == 2 and "cifar10 and cifar100 only" in res.output
    from snncli.engine.backbone import BackboneMissingError, fetch_pretrained

    with pytest.raises(BackboneMissingError, match="torch.hub .*name resolution.*--backbone FILE"):
        fetch_pretrained("cifar10")
    assert not (tmp_path / "runs").exists()


def test_pretrained_fetch_is_translated_and_cached(cache, pretrained_file):
    from snncli.engine.backbone import fetch_pretrained, load_backbone

    net, _ = pretrained_file
    calls = []

    def hub(repo, name, **kwargs):
        calls.append((repo, name, kwargs.get("pretrained")))
        return net

    path = fetch_pretrained("cifar10", hub)
    assert calls == [("chenyaofo/pytorch-cifar-models", "cifar10_resnet32", True)]
    assert fetch_pretrained("cifar10", hub) == path and len(calls) == 1  # cached
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(load_backbone(path, torch.device("cpu")).features(x), load_backbone(path, torch.device("cpu")).features(x))


def test_resnet_path_trains_on_features_never_augmented(cache, tmp_path, pretrained_file, monkeypatch):
    """The bug this guards: CIFAR crop+flip applied to [B, F, 1, 1] features zeroed ~98% of the samples."""
    import snncli.engine.epoch as epoch
    import snncli.engine.trainer as trainer

    _, path = pretrained_file
    seen = []
    build = trainer.build_model

    def recording_build(cfg, data):
        model = build(cfg, data)
        forward = model.forward

        def wrapped(x_seq, record=False):
            if model.training:
                seen.append(x_seq.flatten(2).sum((0, 2)))  # spikes per sample over the whole sequence
            return forward(x_seq, record=record)

        model.forward = wrapped
        return model

    monkeypatch.setattr(trainer, "build_model", recording_build)
    monkeypatch.setattr(epoch, "random_crop_flip", lambda *a, **k: pytest.fail("features were augmented"))
    res = runner.invoke(app, ["train", "--dataset", "synthetic-cifar", "--model", "index", "--hidden-dim", "32",
                              "--T", "4", "--batch-size", "100", "--epochs", "1", "--max-batches", "3", "--use-resnet",
                              "--backbone", str(path), "--out", str(tmp_path / "runs"), "--json"])
    assert res.exit_code == 0, res.output
    counts = torch.cat(seen)
    assert len(counts) == 300 and (counts > 0).all()  # every sample carries input spikes
    config = json.loads((Path(json.loads(res.stdout)["run_dir"]) / "config.json").read_text())
    assert (config["augment"], config["enc"], config["loss"]) == ("none", "rate", "rate")
    res = runner.invoke(app, ["train", "--dataset", "synthetic-cifar", "--use-resnet", "--augment", "crop-flip",
                              "--backbone", str(path), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "cannot be cropped or flipped" in res.output


def test_backbone_train_max_batches_is_a_smoke_run(cache, tmp_path):
    res = runner.invoke(app, ["backbone", "train", "--dataset", "synthetic-cifar", "--epochs", "1", "--batch-size", "8",
                              "--max-batches", "2", "--out", str(tmp_path / "b.pt"), "--json"])
    assert res.exit_code == 0, res.output
    stored = torch.load(tmp_path / "b.pt", weights_only=False)
    assert stored["max_batches"] == 2 and len(stored["history"]) == 1
    assert runner.invoke(app, ["backbone", "train", "--max-batches", "0"]).exit_code == 2
