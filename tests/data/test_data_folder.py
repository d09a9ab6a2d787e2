"""ImageNet-style folder datasets, driven through a stand-in for torchvision.

The real torchvision cannot be imported against this CPU torch build, so a
minimal fake with the same entry points (``datasets.ImageFolder``,
``transforms.Compose/Resize/CenterCrop/ToTensor``) checks our side of the seam:
labels, subsets and batching order. Decoding is torchvision's business.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import torch

from snncli.data import FolderImageSet, iterate_batches, load_dataset, train_val_split
from snncli.data.imagenet import IMAGE_SIZE


def _fake_torchvision() -> types.ModuleType:
    class ImageFolder:
        def __init__(self, root, transform=None):
            folders = sorted(p for p in Path(root).iterdir() if p.is_dir())
            if not folders:
                raise FileNotFoundError(f"Couldn't find any class folder in {root}.")
            self.classes = [p.name for p in folders]
            self.samples = [(f, k) for k, p in enumerate(folders) for f in sorted(p.iterdir())]
            self.targets = [k for _, k in self.samples]
            self.size = transform.size

        def __len__(self):
            return len(self.samples)

        def __getitem__(self, i):
            # Encode the sample index in the pixels so batches can be traced back.
            return torch.full((3, self.size, self.size), i / 100.0), self.targets[i]

    class Compose:
        def __init__(self, steps):
            self.size = next(s.size for s in steps if isinstance(s, CenterCrop))

    class CenterCrop:
        def __init__(self, size):
            self.size = size

    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(ImageFolder=ImageFolder)
    tv.transforms = types.SimpleNamespace(
        Compose=Compose, CenterCrop=CenterCrop, Resize=lambda size: None, ToTensor=lambda: None
    )
    return tv


@pytest.fixture
def fake_torchvision(monkeypatch):
    tv = _fake_torchvision()
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", tv.datasets)
    monkeypatch.setitem(sys.modules, "torchvision.transforms", tv.transforms)
    return tv


def test_missing_torchvision_says_how_to_install(tmp_path, fake, monkeypatch):
    fake.image_tree(tmp_path)
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes the import fail
    with pytest.raises(ImportError, match="pip install torchvision"):
        load_dataset("imagenet100", root=tmp_path, download=False)


@pytest.mark.parametrize("name", ["imagenet100", "imagenet1k"])
def test_folder_splits(tmp_path, fake, fake_torchvision, name):
    fake.image_tree(tmp_path / name, classes=("n01", "n02", "n03"), per_class=4)
    splits = load_dataset(name, root=tmp_path, download=False)
    train = splits.train
    assert isinstance(train, FolderImageSet)
    assert len(train) == 12 and train.classes == ["n01", "n02", "n03"] and train.num_classes == 3
    assert train.shape == (3, IMAGE_SIZE[name], IMAGE_SIZE[name])
    assert train.y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert train.to("cpu") is train


def test_folder_batches_follow_the_generator(tmp_path, fake, fake_torchvision):
    fake.image_tree(tmp_path, per_class=5)
    train = load_dataset("imagenet100", root=tmp_path, download=False).train
    train.num_workers = 0
    seen = []
    for x, y in iterate_batches(train, 4, shuffle=True, generator=torch.Generator().manual_seed(3)):
        assert x.dtype == torch.float32 and x.shape[1:] == (3, 64, 64)
        ids = (x[:, 0, 0, 0] * 100).round().long()
        assert torch.equal(y, train.y[ids])
        seen += ids.tolist()
    assert sorted(seen) == list(range(15))
    expected = torch.randperm(15, generator=torch.Generator().manual_seed(3)).tolist()
    assert seen == expected


def test_folder_subset_and_split(tmp_path, fake, fake_torchvision):
    fake.image_tree(tmp_path, per_class=10)
    train = load_dataset("imagenet100", root=tmp_path, download=False).train
    train.num_workers = 0
    fit, val = train_val_split(train, 0.2, seed=0)
    assert (len(fit), len(val)) == (24, 6)
    assert val.y.bincount().tolist() == [2, 2, 2]
    ids = [int(i) for x, _ in iterate_batches(val, 10, shuffle=False) for i in (x[:, 0, 0, 0] * 100).round()]
    assert torch.equal(train.y[ids], val.y)


def test_val_classes_must_match_train(tmp_path, fake, fake_torchvision):
    fake.image_tree(tmp_path)
    (tmp_path / "val" / "n99").mkdir()
    with pytest.raises(ValueError, match="class folders differ"):
        load_dataset("imagenet100", root=tmp_path, download=False)
