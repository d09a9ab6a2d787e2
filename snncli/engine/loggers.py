"""Experiment trackers fed from the trainer's callbacks; ``metrics.csv``/``metrics.jsonl`` stay the record.

``--logger tensorboard`` writes TensorBoard event files into ``RUN/tensorboard/``: every numeric
column of the epoch rows (``train_loss``, ``test_acc``, ``rate_l1``, ``lr``...) per epoch, and the
training loss per batch (``batch/train_loss``, step = batches seen). A resumed run appends a new
event file whose steps continue after the last epoch saved.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import require
from .callbacks import Callbacks

LOGGERS = ("none", "tensorboard")


def check_logger(name: str) -> None:
    """Raise :class:`~snncli.errors.MissingExtraError` now (before any work) if ``name`` cannot run here."""
    if name == "tensorboard":
        require("tensorboard", "tensorboard", "--logger tensorboard")


class TensorBoardLogger:
    """Epoch rows and batch losses as TensorBoard scalars in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.writer = folder, None
        self.epoch, self.batches = 0, 0
        self.losses: list[tuple[int, float]] = []

    def on_epoch_start(self, epoch: int, batches: int) -> None:
        self.epoch, self.batches, self.losses = epoch, batches, []

    def on_batch(self, batch: int, loss: float) -> None:
        if math.isfinite(loss):  # kept until the epoch is saved: an epoch that fails leaves no curve
            self.losses.append((self.epoch * self.batches + batch, loss))

    def on_epoch_end(self, row: dict[str, Any]) -> None:
        if self.writer is None:  # created after the first checkpoint: a run that fails first leaves nothing
            from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

            self.writer = SummaryWriter(log_dir=str(self.folder))
        for step, loss in self.losses:
            self.writer.add_scalar("batch/train_loss", loss, step)
        step = int(row.get("epoch", self.epoch + 1))
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def with_logger(callbacks: Callbacks, name: str, run_dir: Path) -> tuple[Callbacks, Any]:
    """``callbacks`` that also feed the ``name`` logger, and the logger (``None`` for ``"none"``) to close."""
    if name == "none":
        return callbacks, None
    logger = TensorBoardLogger(Path(run_dir) / "tensorboard")

    def chain(first, second):
        def both(*args):
            first(*args)
            second(*args)
        return both

    return replace(
        callbacks,
        on_epoch_start=chain(callbacks.on_epoch_start, logger.on_epoch_start),
        on_batch=chain(callbacks.on_batch, logger.on_batch),
        on_epoch_end=chain(callbacks.on_epoch_end, logger.on_epoch_end),
    ), logger
