"""``snn backbone train``: train the ResNet-32 that ``snn train --use-resnet`` freezes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import BackboneConfig
from .errors import user_errors
from .options import JsonOut, opt
from .progress import stderr

app = typer.Typer(help="The frozen ResNet-32 feature extractor for CIFAR runs (--use-resnet).", no_args_is_help=True)
B = BackboneConfig


@app.command("train")
def backbone_train(
    dataset: Annotated[Optional[str], opt(B, "dataset")] = None,
    data_root: Annotated[Optional[Path], opt(B, "data_root", "--data-root", "--data_root")] = None,
    epochs: Annotated[Optional[int], opt(B, "epochs")] = None,
    batch_size: Annotated[Optional[int], opt(B, "batch_size", "--batch-size", "--batch_size", "-b")] = None,
    lr: Annotated[Optional[float], opt(B, "lr")] = None,
    device: Annotated[Optional[str], opt(B, "device")] = None,
    seed: Annotated[Optional[int], opt(B, "seed")] = None,
    out: Annotated[Optional[Path], opt(B, "out", "--out", "-o")] = None,
    json_out: JsonOut = False,
) -> None:
    """Train a CIFAR ResNet-32 and store it where `--use-resnet` finds it (pretrained weights cannot be downloaded).

    Example: snn backbone train --dataset cifar10 --epochs 30
    """
    from ..engine.backbone import train_backbone

    values = {k: v for k, v in locals().items() if k not in ("json_out", "train_backbone") and v is not None}
    with user_errors():
        cfg = BackboneConfig(**values)
        result = train_backbone(
            cfg.dataset, cfg.data_root, cfg.epochs, cfg.batch_size, cfg.lr, cfg.device, cfg.seed, cfg.out,
            on_epoch=lambda r: stderr.print(
                f"epoch {r['epoch']}/{cfg.epochs}  train_acc={r['train_acc']:.4f}  test_acc={r['test_acc']:.4f}  {r['time_s']}s"
            ),
        )
    if json_out:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"backbone stored at {result['path']} (hash {result['hash']}, test_acc {result['test_acc']:.4f})")
