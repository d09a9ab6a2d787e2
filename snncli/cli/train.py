"""``snn train`` and ``snn dst``: train a spiking network on a dataset, resumable, one run folder per setting."""

from __future__ import annotations

from typing import Any

import typer

from ..config import TrainConfig
from .generate import command, options
from .options import with_config_file
from .progress import TrainProgress, health_cell, result_table
from .run import run_job

app = typer.Typer()

RESULT_KEYS = ["status", "health", "run_dir", "test_acc", "val_acc", "train_acc", "test_loss", "samples_per_s", "time_s",
               "parameters", "sizes", "connections", "density", "mixing"]


def train_command(config=None, json_out: bool = False, **values: Any) -> dict:
    """Train a spiking network; re-running the same command resumes it, a finished one is returned.

    A run folder holds one setting: other settings there exit with the keys that differ (use another --out, or --force); a larger --epochs extends a finished run.

    Examples:

      snn train --epochs 1                       # dense SNN, Fashion-MNIST

      snn train --model mixer --p-inter 0.15 --json | jq .test_acc

      snn train --config run.yaml --epochs 5     # flags override the file

      snn train --model vgg11 --dataset cifar10 --use-flex --spiking true --optimizer sgd --lr 0.1 --lr-schedule cosine

      snn train --config configs/plasticflex_example.json    # a seed config

      snn train --model vgg6 --use-flex --flex-layers downsample   # Flex only at the 2x2 downsamplings

      snn train --model vgg6 --spiking true --neuron heaviside --use-stbp false   # what the seed's configs ran
    """
    from ..jobs.train import train  # torch: imported when the command runs

    return run_job(train, lambda: TrainConfig(**with_config_file(values, config)), json_out, show_result, TrainProgress())


def show_result(result: dict) -> Any:
    """The result table, with a ``health`` row: ``ok``, or what is wrong in red (a dead run never looks finished)."""
    return result_table({**result, "health": health_cell(result.get("health"))}, RESULT_KEYS)


def dst_command(config=None, json_out: bool = False, **values: Any) -> dict:
    """Dynamic sparse training: `snn train --sparsity dynamic`, the same run and code path.

    Every --update-every steps each sparse layer loses --prune-fraction of its connections
    (--cp set|random|hebb) and grows as many (--cg hebb|random); the count stays constant.

    Example: snn dst --model mixer --cp hebb --cg hebb --epochs 20
    """
    values["sparsity_mode"] = values.get("sparsity_mode") or "dynamic"
    return train_command(config, json_out, **values)


command(app, "train", train_command, options(TrainConfig), models=[TrainConfig])
command(app, "dst", dst_command, options(TrainConfig, defaults={"sparsity_mode": "dynamic"}), models=[TrainConfig])
