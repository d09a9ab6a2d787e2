"""The engine: training loop, checkpoints, run folders, devices, cross-validation."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import DeviceUnavailableError, resolve_device, resolve_precision, seed_everything
from .trainer import Callbacks, RunPaths, build_model, evaluate, logits_of, run_paths, train

__all__ = [
    "Callbacks", "CheckpointError", "DeviceUnavailableError", "RunPaths", "build_model", "evaluate",
    "load_checkpoint", "logits_of", "resolve_device", "resolve_precision", "run_paths", "save_checkpoint",
    "seed_everything", "train",
]
