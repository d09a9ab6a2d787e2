"""The engine: training loop, checkpoints, run folders, devices, cross-validation."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import DeviceUnavailableError, resolve_device, resolve_precision, seed_everything
from .runs import LoadedRun, find_checkpoint, find_runs, load_run
from .trainer import Callbacks, RunPaths, build_model, evaluate, logits_of, run_paths, train

__all__ = [
    "Callbacks", "CheckpointError", "DeviceUnavailableError", "LoadedRun", "RunPaths", "build_model", "evaluate",
    "find_checkpoint", "find_runs", "load_checkpoint", "load_run", "logits_of", "resolve_device", "resolve_precision", "run_paths", "save_checkpoint",
    "seed_everything", "train",
]
