"""The Python API: what ``snn`` does, callable from a script or a notebook.

Everything here is re-exported from :mod:`snncli` (lazily: ``import snncli`` imports no torch)::

    import snncli
    result = snncli.train(dataset="synthetic", model="mlp", hidden_dim=64, T=8, epochs=1, out="runs")
    run = snncli.load_run(result["run_dir"])          # no dataset needed to rebuild the network
    snncli.evaluate(run)                              # {"loss", "acc", "rates"} on its test set

Every function takes either its config model or that model's fields as keywords (the CLI's option
names with underscores); settings are validated by pydantic before any work starts
(:class:`pydantic.ValidationError`), expected failures raise :class:`~snncli.errors.SnnError`. Results
are the dicts that ``snn <command> --json`` prints, typed as ``TypedDict`` s. Nothing is printed:
pass callbacks for progress. See ``docs/python.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch
from pydantic import BaseModel

from .config import (
    AttackConfig,
    CrossvalConfig,
    ExportConfig,
    GradflowConfig,
    HessianConfig,
    LandscapeConfig,
    SweepConfig,
    TrainConfig,
)
from .data import ImageSet, list_datasets, load_dataset
from .engine import Callbacks, LoadedRun, build_model, find_runs, load_run
from .engine import evaluate as _evaluate
from .engine import train as _train
from .engine.device import resolve_device, resolve_precision
from .engine.trainer import TrainResult
from .errors import SnnError
from .jobs.attack import AttackResult
from .jobs.attack import attack as _attack
from .jobs.common import JobCallbacks
from .jobs.export import ExportResult
from .jobs.export import export as _export
from .jobs.gradflow import GradflowResult
from .jobs.gradflow import gradflow as _gradflow
from .jobs.hessian import HessianResult
from .jobs.hessian import hessian as _hessian
from .jobs.landscape import LandscapeResult
from .jobs.landscape import landscape as _landscape
from . import _API
from .models import SNNClassifier, SNNOutput, create_model, list_models

C = TypeVar("C", bound=BaseModel)

#: The names ``snncli`` re-exports: one list, :data:`snncli._API` (kept there so ``import snncli`` needs no torch).
__all__ = list(_API)


def _config(kind: type[C], config: C | None, settings: dict[str, Any]) -> C:
    """``config`` with ``settings`` laid over it (validated again), or a new ``kind`` of ``settings``."""
    if config is None:
        return kind(**settings)
    if not isinstance(config, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(config).__name__}")
    return kind(**{**config.model_dump(exclude_unset=True), **settings}) if settings else config


def train(config: TrainConfig | None = None, callbacks: Callbacks | None = None, **settings: Any) -> TrainResult:
    """Train (or resume, extend, or return the finished) run; what ``snn train`` does.

    Args:
        config: the settings; or give them as keywords (``dataset="synthetic", epochs=2``), which
            also override ``config``'s.
        callbacks: progress hooks (:class:`~snncli.engine.Callbacks`: ``on_epoch_end(row)``...).

    Returns:
        The result (also in ``{out}/{name}/result.json``): accuracies, losses, firing rates,
        ``run_dir``, ``config`` and ``provenance``.
    """
    return _train(_config(TrainConfig, config, settings), callbacks)


def _open(run: LoadedRun | str | Path, device: torch.device | str) -> LoadedRun:
    if isinstance(run, LoadedRun):
        return run
    device = resolve_device(device) if isinstance(device, str) else device  # "auto" as on the command line
    run = load_run(run, device=device)
    if hasattr(run.model, "set_precision"):  # as the run was trained and evaluated
        run.model.set_precision(resolve_precision(run.cfg.precision, device))
    return run


def evaluate(run: LoadedRun | str | Path, data: ImageSet | None = None, device: torch.device | str = "cpu"
             ) -> dict[str, Any]:
    """Loss, accuracy and per-layer firing rates of a trained run, as training measured them.

    Args:
        run: a :class:`LoadedRun`, or a run folder / checkpoint to load.
        data: the images to evaluate on (default: the run's test set, read from its dataset).
        device: where to run when ``run`` is a path.

    Returns:
        ``{"loss", "acc", "rates"}``. On the run's test set with its settings and the same
        rate-coding seed as training's test evaluation, ``acc`` is the run's ``test_acc``.
    """
    run = _open(run, device)
    dev = next(run.model.parameters()).device
    return _evaluate(run.model, run.test if data is None else data, run.cfg, dev, seed_offset=2)


def classifier(run: LoadedRun | str | Path, eot: int = 1, seed: int | None = None,
               device: torch.device | str = "cpu") -> SNNClassifier:
    """The run's network as ``images [N, C, H, W] in [0, 1] -> logits [N, classes]`` (encoding, state
    reset and readout as trained): what attacks and analysis call, and any ``nn.Module`` code can.

    Args:
        run: a :class:`LoadedRun`, or a run folder / checkpoint to load.
        eot: rate coding: encodings averaged per call.
        seed: seed of the rate-coding generator (default: the run's seed).
        device: where to put the network when ``run`` is a path.
    """
    run = _open(run, device)
    return SNNClassifier.from_run(run.model, run.cfg, eot=eot, seed=seed)


def attack(config: AttackConfig | None = None, callbacks: JobCallbacks | None = None, **settings: Any) -> AttackResult:
    """Robust accuracy of trained runs under adversarial attacks; what ``snn attack`` does.

    Args:
        config: the settings, or as keywords: ``runs=[...]``, ``attacks=["fgsm", "pgd"]``, ``eps=[...]``...
        callbacks: progress hooks (:class:`~snncli.jobs.common.JobCallbacks`).
    """
    return _attack(_config(AttackConfig, config, settings), callbacks)


def hessian(config: HessianConfig | None = None, callbacks: JobCallbacks | None = None, **settings: Any
            ) -> HessianResult:
    """Top eigenvalues, trace and spectral density of the loss Hessian of a run; ``snn hessian``."""
    return _hessian(_config(HessianConfig, config, settings), callbacks)


def landscape(config: LandscapeConfig | None = None, callbacks: JobCallbacks | None = None, **settings: Any
              ) -> LandscapeResult:
    """The loss surface around a run's weights along random or Hessian directions; ``snn landscape``."""
    return _landscape(_config(LandscapeConfig, config, settings), callbacks)


def gradflow(config: GradflowConfig | None = None, callbacks: JobCallbacks | None = None, **settings: Any
             ) -> GradflowResult:
    """Per-tensor gradient statistics of a run, vanishing and exploding flagged; ``snn gradflow``."""
    return _gradflow(_config(GradflowConfig, config, settings), callbacks)


def export(config: ExportConfig | None = None, callbacks: JobCallbacks | None = None, **settings: Any) -> ExportResult:
    """Write a trained run's network as NIR (spiking MLPs) or a torch.export program (ANNs); ``snn export``.

    Example: ``snncli.export(run="runs/my_run", format="nir")["file"]``.
    """
    return _export(_config(ExportConfig, config, settings), callbacks)
