"""What the jobs over trained runs share: callbacks, the input error, opening a run, sampling its test set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..data import iterate_batches
from ..engine.callbacks import Callbacks
from ..engine.device import resolve_device, resolve_precision
from ..atomic import clean_stale_temps
from ..config.fields import unusable_dir
from ..engine.runs import LoadedRun, load_run
from ..errors import SnnError
from ..models import SNNClassifier


class AnalysisInputError(SnnError, ValueError):
    """A run or setting the analysis cannot work with (bad input: exit 2)."""


@dataclass
class JobCallbacks:
    """Hooks the jobs call; every one optional. The CLI turns them into stderr lines and bars.

    Attributes:
        on_log: a line of news.
        on_progress: ``(task, done, total)`` of a long part.
        on_item: one finished item of a job of many (a fold, a sweep point), as its row.
    """

    on_log: Callable[[str], None] = lambda msg: None
    on_progress: Callable[[str, int, int], None] = lambda task, done, total: None
    on_item: Callable[[dict], None] = lambda row: None


AnalysisCallbacks = JobCallbacks  # the analysis jobs' name for them


def training_progress(cb: JobCallbacks, label: str, epochs: int) -> Callbacks:
    """Engine callbacks that show one training run of a job of many (a fold, a sweep point) as ``cb``'s
    progress: ``{label} epoch e/E`` over its batches, ``{label} evaluate test``..., and its warnings as
    log lines."""
    state = {"task": label, "batches": 0}

    def epoch_start(epoch: int, batches: int) -> None:
        state.update(task=f"{label} epoch {epoch + 1}/{epochs}", batches=batches)
        cb.on_progress(state["task"], 0, batches)

    return Callbacks(
        on_epoch_start=epoch_start,
        on_batch=lambda i, loss: cb.on_progress(state["task"], i + 1, state["batches"]),
        on_epoch_end=lambda row: cb.on_progress(state["task"], state["batches"], state["batches"]),
        on_progress=lambda phase, done, total: cb.on_progress(f"{label} {phase}", done, total),
        on_warning=lambda msg: cb.on_log(f"{label}: warning: {msg}"),
        on_log=lambda msg: cb.on_log(f"{label}: {msg}"),
    )


def open_run(path: Path, device: torch.device, images_needed: bool = False) -> LoadedRun:
    """The run at ``path`` on ``device``, in the precision it was trained in."""
    run = load_run(path, device=device)
    if hasattr(run.model, "set_precision"):
        # As the run was trained and evaluated (bf16 products where they are fast); first-order
        # jobs run in it, the Hessian switches to fp32 (see use_fp32).
        run.model.set_precision(resolve_precision(run.cfg.precision, device))
    if images_needed and run.cfg.use_resnet:
        raise AnalysisInputError(
            f"{run.dir}: a --use-resnet run reads ResNet features, not images; attacks need image inputs"
        )
    return run


def out_dir(run: LoadedRun, out: Path | None) -> Path:
    """``out``, or the run's ``analysis/`` folder. Not created here: the writers create it with the first
    file, so a job refused before it writes anything leaves no empty folder.

    Raises:
        AnalysisInputError: files cannot be created there (e.g. a read-only run folder without ``--out``).
    """
    folder = Path(out) if out is not None else run.dir / "analysis"
    problem = unusable_dir(folder)
    if problem:
        raise AnalysisInputError(f"--out: {problem}" + ("" if out is not None else "; give --out"))
    clean_stale_temps(folder)
    return folder


def adapter(run: LoadedRun, seed: int, eot: int = 1) -> SNNClassifier:
    return SNNClassifier.from_run(run.model, run.cfg, eot=eot, seed=seed)


def prepare(cfg, callbacks: AnalysisCallbacks | None):
    """What every single-run job starts with: callbacks, device, the opened run, its output folder."""
    device = resolve_device(cfg.device)
    run = open_run(cfg.run, device)
    return callbacks or AnalysisCallbacks(), device, run, out_dir(run, cfg.out)


def sample(run: LoadedRun, n: int, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` test samples in a seeded random order (all classes mixed), on ``device``."""
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(run.test), generator=gen)[: min(n, len(run.test))]
    x, y = next(iterate_batches(run.test.subset(idx), len(idx), shuffle=False, device=device))
    return x, y


def fixed_batches(run: LoadedRun, n_batches: int, batch_size: int, seed: int, device: torch.device,
                  split: str = "test", draw: str = "random") -> list:
    """``n_batches`` batches of ``split`` samples, the same every call.

    ``draw``: ``"random"`` (a seeded permutation), ``"numpy"`` (the PlasticFlex seed's draw:
    ``numpy.random.seed(seed); numpy.random.choice(N, n, replace=False)``) or ``"first"`` (file order).

    Raises:
        AnalysisInputError: the training split is asked for but the run's is not in memory.
    """
    data = run.test if split == "test" else run.train
    if data is None:
        raise AnalysisInputError(f"{run.dir}: its training images are not available here (a streamed or feature dataset)")
    n = min(n_batches * batch_size, len(data))
    if draw == "first":
        idx = torch.arange(n)
    elif draw == "numpy":
        import numpy as np

        idx = torch.from_numpy(np.random.RandomState(seed).choice(len(data), n, replace=False).astype(np.int64))
    else:
        idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    x, y = next(iterate_batches(data.subset(idx), len(idx), shuffle=False, device=device))
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)]


def use_fp32(run: LoadedRun) -> None:
    if hasattr(run.model, "set_precision"):
        run.model.set_precision("fp32")  # exact state and a twice-differentiable surrogate
