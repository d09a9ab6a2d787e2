"""What the parts of the plasticity job share: callbacks, the input error, the experiment folder, eta tags and regimes."""

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
    """The seed's spelling of a learning rate in names: ``1e-5``, ``1e-4``, ``2.5e-4`` (shortest mantissa, no padding)."""
    mantissa, exponent = f"{eta:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def regimes(etas: list[float]) -> dict[float, str]:
    """The seed's names of the post-training regimes: the smallest eta is ``gentle``, the largest ``strong``,
    any between ``medium``."""
    order = sorted(set(etas))
    return {e: "gentle" if e == order[0] else "strong" if e == order[-1] else "medium" for e in order}



def experiment_dir(cfg: PlasticityConfig) -> Path:
    """``{out}/{folder_name}``, or ``{out}/plasticity_from_{run}`` for ``--checkpoint``: the run folder's name,
    or the checkpoint file's name without ``.pth`` (a run folder names its checkpoint after itself)."""
    if cfg.checkpoint is not None:
        run = Path(cfg.checkpoint)
        name = run.stem if run.is_file() else run.resolve().name
        return cfg.out / f"plasticity_from_{name or 'checkpoint'}"
    return cfg.out / cfg.folder_name()
