"""The frozen ResNet-32 feature extractor: training it, storing it, and caching its features.

Pretrained weights cannot be downloaded here, so ``snn backbone train`` trains the network on
the dataset and stores it in the user cache; ``--use-resnet`` then loads it (or ``--backbone
PATH``), computes the features of the whole dataset once, and caches them keyed by the
backbone file's hash, so later runs and epochs read 512 numbers per image instead of running
the convolutional network.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..data import DataSplits, ImageSet, cache_dir, iterate_batches, load_dataset
from ..errors import SnnError
from ..models.resnet import FEATURES, ResNet32
from .augment import random_crop_flip
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import resolve_device, seed_everything


class BackboneMissingError(SnnError, FileNotFoundError):
    """``--use-resnet`` without a trained backbone."""


def backbone_dir() -> Path:
    return cache_dir().parent / "backbones"


def default_backbone_path(dataset: str) -> Path:
    return backbone_dir() / f"resnet32_{dataset}.pt"


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 4-pixel reflect-padded crop and horizontal flip, per sample, on x's device."""
    return random_crop_flip(x, gen, pad=4, mode="reflect")


def train_backbone(
    dataset: str, data_root: Path | None = None, epochs: int = 30, batch_size: int = 128, lr: float = 0.1,
    device: str = "auto", seed: int = 42, out: Path | None = None,
    on_epoch: Callable[[dict[str, Any]], None] = lambda row: None, max_batches: int | None = None,
) -> dict[str, Any]:
    """Train ResNet-32 on ``dataset`` (SGD, momentum 0.9, weight decay 5e-4, cosine schedule,
    crop + flip augmentation) and store it atomically at ``out`` (default: the user cache).
    ``max_batches`` ends each epoch after that many batches (smoke runs)."""
    dev = resolve_device(device)
    seed_everything(seed)
    splits = load_dataset(dataset, data_root)
    if splits.train.shape[0] != 3:
        raise ValueError(f"--dataset: the ResNet-32 backbone needs 3-channel images; {dataset} has {splits.train.shape[0]}")
    train_set, test_set = splits.train.to(dev), splits.test.to(dev)
    model = ResNet32(train_set.num_classes).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    per_epoch = math.ceil(len(train_set) / batch_size)
    if max_batches:
        per_epoch = min(per_epoch, max_batches)
    steps = epochs * per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    history = []
    for epoch in range(epochs):
        model.train()
        gen = torch.Generator(device=dev).manual_seed(seed * 1000 + epoch)
        start, seen, correct = time.perf_counter(), 0, 0
        for i, (x, y) in enumerate(iterate_batches(train_set, batch_size, shuffle=True, generator=gen, device=dev)):
            if i >= per_epoch:
                break
            logits = model(_augment(x, gen))
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(y)
            correct += int((logits.argmax(1) == y).sum())
        row = {"epoch": epoch + 1, "train_acc": correct / seen, "test_acc": _accuracy(model, test_set, dev),
               "time_s": round(time.perf_counter() - start, 2)}
        history.append(row)
        on_epoch(row)
    path = out or default_backbone_path(dataset)
    save_checkpoint(path, {"model": model.state_dict(), "dataset": dataset, "num_classes": train_set.num_classes,
                           "epochs": epochs, "max_batches": max_batches, "history": history})
    return {"path": str(path), "hash": file_hash(path), "dataset": dataset, "epochs": epochs,
            "test_acc": history[-1]["test_acc"] if history else None, "history": history}


@torch.no_grad()
def _accuracy(model: ResNet32, data: ImageSet, dev: torch.device) -> float:
    model.eval()
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in iterate_batches(data, 500, shuffle=False, device=dev))
    return correct / max(len(data), 1)


def load_backbone(path: Path, device: torch.device) -> ResNet32:
    """A trained ResNet-32, frozen (eval mode, no gradients)."""
    ckpt = load_checkpoint(path, map_location=device)
    if "model" not in ckpt or "stem.0.weight" not in ckpt["model"]:
        raise CheckpointError(f"{path}: not a ResNet-32 backbone")
    model = ResNet32(int(ckpt["num_classes"])).to(device)
    model.load_state_dict(ckpt["model"])
    model.eval().requires_grad_(False)
    return model


@torch.no_grad()
def _features(model: ResNet32, data: ImageSet, dev: torch.device) -> ImageSet:
    feats = torch.cat([model.features(x) for x, _ in iterate_batches(data, 500, shuffle=False, device=dev)])
    return ImageSet(feats.view(-1, FEATURES, 1, 1).cpu(), data.y.cpu(), list(data.classes), data.name)


def resnet_features(
    dataset: str, splits: DataSplits, backbone: Path | None, device: torch.device
) -> tuple[DataSplits, str]:
    """The dataset's 512-d ResNet-32 features, computed once per backbone and cached on disk.

    Returns:
        ``(feature splits, backbone hash)``.

    Raises:
        BackboneMissingError: no ``backbone`` given and none trained for ``dataset``.
    """
    path = backbone or default_backbone_path(dataset)
    if not path.is_file():
        raise BackboneMissingError(
            f"--use-resnet: no backbone at {path}; train one with `snn backbone train --dataset {dataset}` "
            "or pass --backbone PATH"
        )
    digest = file_hash(path)
    cache = cache_dir().parent / "features" / f"{dataset}_resnet32_{digest}.pt"
    if cache.is_file():
        try:
            saved = load_checkpoint(cache)
            if len(saved["train_y"]) != len(splits.train) or len(saved["test_y"]) != len(splits.test):
                raise CheckpointError(f"{cache}: cached for other splits")
            return DataSplits(
                train=ImageSet(saved["train_x"], saved["train_y"], list(splits.train.classes), dataset),
                test=ImageSet(saved["test_x"], saved["test_y"], list(splits.test.classes), dataset),
                source=f"{splits.source} -> resnet32 {digest} (cached)",
            ), digest
        except CheckpointError:
            pass  # recompute and overwrite a damaged or mismatched cache entry
    model = load_backbone(path, device)
    train, test = _features(model, splits.train, device), _features(model, splits.test, device)
    save_checkpoint(cache, {"train_x": train.x, "train_y": train.y, "test_x": test.x, "test_y": test.y})
    return DataSplits(train=train, test=test, source=f"{splits.source} -> resnet32 {digest}"), digest
