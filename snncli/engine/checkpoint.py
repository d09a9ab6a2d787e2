"""Checkpoints: atomic writes, safe loads (no arbitrary unpickling), clear errors.

Every ``torch.load`` of snn is in this module and passes ``weights_only=True`` explicitly: torch then
unpickles tensors and plain containers only, even when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` is set
(that variable overrides only calls that leave ``weights_only`` unset). A file holding anything else
is refused with one line that says so, never with torch's advice to load it unsafely.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import SnnError
from .writers import write_torch

FORMAT = "snncli-checkpoint-v1"


class CheckpointError(SnnError, RuntimeError):
    """A checkpoint that is unreadable, corrupt, or from a different run."""


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (a temp file in the same folder, fsync, rename).

    A crash at any moment leaves either the previous checkpoint or the new one, never half; a full
    disk raises :class:`~snncli.atomic.WriteError` with the previous checkpoint intact.
    """
    write_torch(path, {"format": FORMAT, **payload})


def _refusal(path: Path, exc: Exception) -> str:
    """One line for a file torch's weights-only unpickler refused or could not read."""
    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) or "Weights only load failed" in text:
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found:  # a pickle naming a callable: what an attack looks like
            return (f"{path}: refused: it holds Python objects other than tensors and plain containers (it calls "
                    f"{found.group(1)}); loading it could run code, so snn reads only the checkpoints it writes")
        # garbage, or a pickle of a kind torch's safe unpickler does not read: torch cannot tell which
        return (f"{path}: unreadable checkpoint (not a file torch.save wrote with tensors and plain containers; "
                "snn unpickles nothing else, as that could run code)")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return f"{path}: unreadable checkpoint ({first[:200]})"


def load_weights(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``: tensors and plain containers, nothing executable.

    Raises:
        CheckpointError: no such file, not a torch file, truncated, or holding other objects.
    """
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr: the error says it all
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: a folder, not a checkpoint file") from None
    except Exception as exc:
        raise CheckpointError(_refusal(path, exc)) from None


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (:func:`load_weights`: ``weights_only=True``).

    Raises:
        CheckpointError: the file is truncated, not a torch file, holds objects other than
            tensors and plain containers, or was not written by snncli.
    """
    data = load_weights(path, map_location)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an snncli checkpoint")
    return data
