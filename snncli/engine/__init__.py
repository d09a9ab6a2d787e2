"""The engine: training loop, checkpoints, run folders, devices, cross-validation."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .device import DeviceUnavailableError, resolve_device, resolve_precision, seed_everything
from .callbacks import Callbacks
from .evaluation import evaluate
from .inputs import Inputs, InputMismatchError, build_model, load_inputs
from .runs import LoadedRun, RunPaths, find_checkpoint, find_runs, load_run, run_paths
from .trainer import train

__all__ = [
    "Callbacks", "CheckpointError", "DeviceUnavailableError", "InputMismatchError", "Inputs", "LoadedRun", "RunPaths",
    "build_model", "evaluate", "find_checkpoint", "find_runs", "load_checkpoint", "load_inputs", "load_run",
    "resolve_device", "resolve_precision", "run_paths", "save_checkpoint", "seed_everything", "train",
]
