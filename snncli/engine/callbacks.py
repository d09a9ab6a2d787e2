"""The hooks the training engine calls; the CLI turns them into progress bars and lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Callbacks:
    """Hooks the engine calls; every one is optional."""

    on_start: Callable[[dict[str, Any]], None] = lambda info: None
    on_epoch_start: Callable[[int, int], None] = lambda epoch, batches: None
    on_batch: Callable[[int, float], None] = lambda batch, loss: None
    on_epoch_end: Callable[[dict[str, Any]], None] = lambda row: None
    on_log: Callable[[str], None] = lambda msg: None
    on_warning: Callable[[str], None] = lambda msg: None  # something about the run looks wrong (engine.health)
    on_progress: Callable[[str, int, int], None] = lambda phase, done, total: None  # e.g. ("evaluate test", 3, 20)
