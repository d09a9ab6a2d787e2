"""What the parts of the plasticity job share: callbacks, the input error, the experiment folder, eta tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...config.plasticity import PlasticityConfig
from ...engine.callbacks import Callbacks
from ...errors import SnnError


class PlasticityInputError(SnnError, ValueError):
    """Input the experiment cannot use (e.g. a checkpoint of another architecture); nothing was written."""


@dataclass
class PlasticityCallbacks:
    """Progress hooks; every one optional. ``train`` receives the baseline's training progress."""

    train: Callbacks = field(default_factory=Callbacks)
    on_log: Callable[[str], None] = lambda msg: None
    on_post_start: Callable[[float, int, int], None] = lambda eta, epoch, batches: None
    on_post_batch: Callable[[int], None] = lambda batch: None
    on_post_epoch: Callable[[dict[str, Any]], None] = lambda row: None


def eta_tag(eta: float) -> str:
    """``1e-05`` for 1e-5, ``0.0001`` for 1e-4: Python's shortest ``g`` spelling, used in file names."""
    return f"{eta:g}"



def experiment_dir(cfg: PlasticityConfig) -> Path:
    if cfg.checkpoint is not None:
        run = Path(cfg.checkpoint)
        name = run.parent.name if run.is_file() else run.name
        return cfg.out / f"plasticity_from_{name}"
    return cfg.out / cfg.folder_name()
