"""``snn backbone train``: the CIFAR ResNet-32 that ``--use-resnet`` freezes (:func:`snncli.engine.backbone.train_backbone`)."""

from __future__ import annotations

from typing import Any

from ..config import BackboneConfig
from ..engine.backbone import train_backbone
from .common import JobCallbacks


def backbone(cfg: BackboneConfig, callbacks: JobCallbacks | None = None) -> dict[str, Any]:
    """Train it and store it where ``--use-resnet`` finds it; ``callbacks.on_item`` gets each epoch's row."""
    cb = callbacks or JobCallbacks()
    return train_backbone(cfg.dataset, cfg.data_root, cfg.epochs, cfg.batch_size, cfg.lr, cfg.device, cfg.seed, cfg.out,
                          on_epoch=cb.on_item, max_batches=cfg.max_batches)
