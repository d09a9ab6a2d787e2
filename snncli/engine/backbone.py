"""The frozen ResNet-32 feature extractor: its weights, and the features it gives, cached.

Where the weights come from, in order: ``--backbone FILE`` (a state dict in the
``chenyaofo/pytorch-cifar-models`` layout the seed loads, a plain state dict of ours, or an
``snn backbone train`` checkpoint); ``--pretrained`` (the seed's pretrained network, fetched with
``torch.hub`` and kept in the user cache); otherwise the network ``snn backbone train`` trained and
cached. ``--use-resnet`` computes the features of the whole dataset once per (weights, variant) and
caches them keyed by the weights' hash, so later runs and epochs read 1024 (or 512, ``--resnet-cut``)
numbers per image instead of running the convolutional network.

As the seed: pretrained weights see CIFAR-normalised images (its mean and std); each sample's
features are min-max scaled to [0, 1], then rate coded by the trainer. Features are never
augmented (the seed crops and flips images before its ResNet; here the ResNet runs once).
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
from ..models.resnet import FEATURES, SEED_MEAN, SEED_STD, ResNet32, from_cifar_models_layout
from .augment import random_crop_flip
from .checkpoint import CheckpointError, load_checkpoint, load_weights, save_checkpoint
from .device import resolve_device, seed_everything


class BackboneMissingError(SnnError, FileNotFoundError):
    """``--use-resnet`` without usable weights (none given, none cached, or the download failed)."""


HUB_REPO = "chenyaofo/pytorch-cifar-models"


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
                           "epochs": epochs, "max_batches": max_batches, "history": history, "normalize": None})
    return {"path": str(path), "hash": file_hash(path), "dataset": dataset, "epochs": epochs,
            "test_acc": history[-1]["test_acc"] if history else None, "history": history}


@torch.no_grad()
def _accuracy(model: ResNet32, data: ImageSet, dev: torch.device) -> float:
    model.eval()
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in iterate_batches(data, 500, shuffle=False, device=dev))
    return correct / max(len(data), 1)


class Backbone:
    """A frozen ResNet-32 and the input normalisation its weights expect (``None``: images in [0, 1])."""

    def __init__(self, model: ResNet32, normalize: tuple[tuple[float, ...], tuple[float, ...]] | None):
        self.model, self.normalize = model.eval().requires_grad_(False), normalize

    @torch.no_grad()
    def features(self, x: torch.Tensor, cut: bool = False) -> torch.Tensor:
        """Images ``[B, 3, 32, 32]`` in [0, 1] -> features ``[B, F]``, each sample min-max scaled to [0, 1]."""
        if self.normalize is not None:
            mean, std = (torch.tensor(v, device=x.device).view(1, -1, 1, 1) for v in self.normalize)
            x = (x - mean) / std
        return minmax_per_sample(self.model.features(x, cut))


def minmax_per_sample(feat: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each row scaled to [0, 1] by its own minimum and maximum (the seed's ``_minmax_per_sample``)."""
    low, high = feat.min(1, keepdim=True).values, feat.max(1, keepdim=True).values
    return (feat - low) / (high - low + eps)


def load_backbone(path: Path, device: torch.device) -> Backbone:
    """The ResNet-32 in ``path``: an ``snn backbone train`` checkpoint, or a state dict (ours or the
    ``chenyaofo/pytorch-cifar-models`` layout, possibly under ``state_dict``), frozen.

    Raises:
        CheckpointError: the file is unreadable or holds no CIFAR ResNet-32.
    """
    data = load_weights(path, map_location=device)  # weights only: a crafted file is refused, never run
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a ResNet-32 state dict")
    if "model" in data:  # an snn checkpoint: trained by `snn backbone train`, or fetched by --pretrained
        state, normalize = data["model"], data.get("normalize")
    else:  # a bare state dict, e.g. the pretrained weights downloaded by hand: the seed normalises for them
        state, normalize = data.get("state_dict", data), (SEED_MEAN, SEED_STD)
    try:
        state = from_cifar_models_layout(state)
        model = ResNet32(int(state["fc.weight"].shape[0])).to(device)
        model.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a CIFAR ResNet-32 ({str(exc).splitlines()[0][:200]})") from None
    if normalize is not None:
        normalize = (tuple(float(v) for v in normalize[0]), tuple(float(v) for v in normalize[1]))
    return Backbone(model, normalize)


def pretrained_path(dataset: str) -> Path:
    return backbone_dir() / f"pretrained_{dataset}_resnet32.pt"


def fetch_pretrained(dataset: str, hub_load: Callable[..., torch.nn.Module] | None = None) -> Path:
    """The seed's pretrained CIFAR ResNet-32 (``torch.hub``, ``chenyaofo/pytorch-cifar-models``), cached.

    Raises:
        BackboneMissingError: no pretrained network for ``dataset``, or it cannot be fetched.
    """
    path = pretrained_path(dataset)
    if path.is_file():
        return path
    if dataset not in ("cifar10", "cifar100"):
        raise BackboneMissingError(
            f"--pretrained: {HUB_REPO} has pretrained ResNet-32 weights for cifar10 and cifar100 only, not {dataset}; "
            f"pass --backbone FILE or train one with `snn backbone train --dataset {dataset}`"
        )
    load = hub_load or torch.hub.load
    try:
        net = load(HUB_REPO, f"{dataset}_resnet32", pretrained=True, trust_repo=True, verbose=False)
    except Exception as exc:  # offline, blocked, renamed: every failure means "not available"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise BackboneMissingError(
            f"--pretrained: cannot fetch {HUB_REPO} {dataset}_resnet32 with torch.hub ({reason}); download the "
            "weights where there is internet and pass the file with --backbone FILE"
        ) from None
    state = from_cifar_models_layout({k: v.detach().cpu() for k, v in net.state_dict().items()})
    save_checkpoint(path, {"model": state, "dataset": dataset, "num_classes": int(state["fc.weight"].shape[0]),
                           "normalize": [list(SEED_MEAN), list(SEED_STD)], "source": f"torch.hub {HUB_REPO}"})
    return path


def backbone_file(dataset: str, backbone: Path | None, pretrained: bool,
                  hub_load: Callable[..., torch.nn.Module] | None = None) -> Path:
    """Which weights ``--use-resnet`` reads (see the module doc).

    Raises:
        BackboneMissingError: none given and none available, naming every way to provide them.
    """
    if backbone is not None:
        return backbone
    if pretrained:
        return fetch_pretrained(dataset, hub_load)
    path = default_backbone_path(dataset)
    if not path.is_file():
        raise BackboneMissingError(
            f"--use-resnet: no ResNet-32 weights for {dataset}: pass --pretrained to fetch the seed's pretrained "
            f"network with torch.hub (needs internet), --backbone FILE for weights you have (e.g. {HUB_REPO}'s "
            f"{dataset}_resnet32 state dict), or train one with `snn backbone train --dataset {dataset}`"
        )
    return path


@torch.no_grad()
def _features(backbone: Backbone, data: ImageSet, dev: torch.device, cut: bool) -> ImageSet:
    feats = torch.cat([backbone.features(x, cut) for x, _ in iterate_batches(data, 500, shuffle=False, device=dev)])
    return ImageSet(feats.view(-1, FEATURES[cut], 1, 1).cpu(), data.y.cpu(), list(data.classes), data.name)


def resnet_features(
    dataset: str, splits: DataSplits, backbone: Path | None, device: torch.device, cut: bool = False,
    pretrained: bool = False,
) -> tuple[DataSplits, str]:
    """The dataset's ResNet-32 features (1024, or 512 with ``cut``), min-max scaled per sample,
    computed once per weights file and variant and cached on disk.

    Returns:
        ``(feature splits, weights hash)``.

    Raises:
        BackboneMissingError: no weights available (see :func:`backbone_file`).
        CheckpointError: the weights file holds no CIFAR ResNet-32.
    """
    path = backbone_file(dataset, backbone, pretrained)
    digest = file_hash(path)
    variant = "cut" if cut else "whole"
    cache = cache_dir().parent / "features" / f"{dataset}_resnet32_{variant}_{digest}.pt"
    if cache.is_file():
        try:
            saved = load_checkpoint(cache)
            if len(saved["train_y"]) != len(splits.train) or len(saved["test_y"]) != len(splits.test):
                raise CheckpointError(f"{cache}: cached for other splits")
            return DataSplits(
                train=ImageSet(saved["train_x"], saved["train_y"], list(splits.train.classes), dataset),
                test=ImageSet(saved["test_x"], saved["test_y"], list(splits.test.classes), dataset),
                source=f"{splits.source} -> resnet32 {variant} {digest} (cached)",
            ), digest
        except CheckpointError:
            pass  # recompute and overwrite a damaged or mismatched cache entry
    net = load_backbone(path, device)
    train, test = _features(net, splits.train, device, cut), _features(net, splits.test, device, cut)
    save_checkpoint(cache, {"train_x": train.x, "train_y": train.y, "test_x": test.x, "test_y": test.y})
    return DataSplits(train=train, test=test, source=f"{splits.source} -> resnet32 {variant} {digest}"), digest
