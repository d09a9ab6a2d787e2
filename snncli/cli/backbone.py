"""``snn backbone train``: train the ResNet-32 that ``snn train --use-resnet`` freezes."""

from __future__ import annotations

from typing import Any

import typer

from ..config import BackboneConfig
from .generate import command, options
from .progress import stderr
from .run import JobProgress, run_job

app = typer.Typer(help="The frozen ResNet-32 feature extractor for CIFAR runs (--use-resnet).", no_args_is_help=True)


def backbone_train(json_out: bool = False, **values: Any) -> None:
    """Train a CIFAR ResNet-32 and store it where `--use-resnet` finds it (pretrained weights cannot be downloaded).

    Example: snn backbone train --dataset cifar10 --epochs 30
    """
    from ..jobs.backbone import backbone  # torch: imported when the command runs

    def epoch_line(r: dict) -> None:
        stderr.print(f"epoch {r['epoch']}/{values.get('epochs') or BackboneConfig.model_fields['epochs'].default}  "
                     f"train_acc={r['train_acc']:.4f}  test_acc={r['test_acc']:.4f}  {r['time_s']}s")

    result = run_job(backbone, lambda: BackboneConfig(**{k: v for k, v in values.items() if v is not None}), json_out,
                     progress=JobProgress(on_item=epoch_line))
    if not json_out:
        typer.echo(f"backbone stored at {result['path']} (hash {result['hash']}, test_acc {result['test_acc']:.4f})")


command(app, "train", backbone_train, options(BackboneConfig), models=[BackboneConfig], config_file=False)
