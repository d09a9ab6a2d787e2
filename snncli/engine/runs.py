"""Run folders: where a run lives, and finding and loading finished (or part-finished) runs, what
every analysis command starts from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..config import TrainConfig
from ..config.setting import seed_keys
from ..data import ImageSet
from .checkpoint import CheckpointError, load_checkpoint
from .inputs import build_model, fit_input, load_inputs


@dataclass
class RunPaths:
    """Where a run lives: ``{out}/{name}/`` with ``{name}.pth``, metrics, result and ``.DONE``."""

    dir: Path
    name: str
    checkpoint: Path = field(init=False)
    done: Path = field(init=False)
    result: Path = field(init=False)

    def __post_init__(self) -> None:
        self.checkpoint = self.dir / f"{self.name}.pth"
        self.done = self.dir / ".DONE"
        self.result = self.dir / "result.json"


def run_paths(cfg: TrainConfig) -> RunPaths:
    name = cfg.run_name()
    return RunPaths(cfg.out / name, name)


@dataclass
class LoadedRun:
    """A model rebuilt from a checkpoint, with the configuration it was trained under.

    Attributes:
        model: the network in eval mode, on the requested device, weights loaded.
        cfg: the run's :class:`TrainConfig` (as stored in the checkpoint).
        dir: the run folder (where ``analysis/`` goes).
        checkpoint: the ``.pth`` file that was read.
        history: per-epoch metric rows stored in the checkpoint.
        test: the run's test set (ResNet features for ``use_resnet`` runs), on the CPU.
        train: its whole training set, shaped alike (``None`` when the caller passed ``data``).
    """

    model: torch.nn.Module
    cfg: TrainConfig
    dir: Path
    checkpoint: Path
    history: list[dict[str, Any]]
    test: ImageSet
    train: ImageSet | None = None

    @property
    def val_acc(self) -> float | None:
        """Best validation accuracy of the run (``None`` when it had no validation set)."""
        vals = [r["val_acc"] for r in self.history if r.get("val_acc") is not None]
        return max(vals) if vals else None


def find_checkpoint(path: Path) -> Path:
    """The checkpoint a user means by ``path``: the file itself, or the one ``.pth`` in a run folder.

    Raises:
        CheckpointError: nothing there, or a folder with no or several checkpoints.
    """
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such run folder or checkpoint")
    named = path / f"{path.name}.pth"
    if named.is_file():
        return named
    found = sorted(p for p in path.glob("*.pth") if not p.name.startswith("."))
    if len(found) == 1:
        return found[0]
    if not found:
        raise CheckpointError(f"{path}: no checkpoint (*.pth) in this folder")
    raise CheckpointError(f"{path}: several checkpoints here ({', '.join(p.name for p in found)}); name one")


def find_runs(folder: Path) -> list[Path]:
    """Every run folder below ``folder`` (a folder holding ``config.json`` and a checkpoint), sorted."""
    folder = Path(folder)
    runs = []
    for cfg_file in sorted(folder.rglob("config.json")):
        try:
            find_checkpoint(cfg_file.parent)
        except CheckpointError:
            continue
        runs.append(cfg_file.parent)
    return runs


def stored_settings(stored: dict[str, Any]) -> dict[str, Any]:
    """A run's stored configuration in today's names and meanings, for loading and identity checks.

    A setting the run predates usually took the field's default then; not ``flex_layers``: Flex runs
    written before it existed had Flex layers at the downsamplings only. A key stored under a
    setting's seed name (``num_spatial_attention_block``) is read as that setting, as in config files.
    """
    renamed = seed_keys(TrainConfig)
    out = {(renamed[k] if k in renamed and renamed[k] not in stored else k): v for k, v in stored.items()}
    if out.get("use_flex") and "flex_layers" not in out:
        out["flex_layers"] = "downsample"
    return out


def _config_from(stored: dict[str, Any], path: Path) -> TrainConfig:
    stored = stored_settings(stored)
    try:
        return TrainConfig.model_validate(stored)
    except Exception as exc:  # pydantic ValidationError, or a model no longer registered
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: its stored configuration is not valid here ({first})") from None


def load_run(
    path: Path, device: torch.device | str = "cpu", data: ImageSet | None = None
) -> LoadedRun:
    """Rebuild the model of a run folder or checkpoint file and load its weights.

    Args:
        path: a run folder (``runs/<name>/``) or a ``.pth`` checkpoint written by ``snn train``.
        device: where to put the model.
        data: the run's test set (or any set with its input shape and class count); loaded
            from the run's configuration (its dataset and ``data_root``) when omitted.

    Returns:
        :class:`LoadedRun` with the model in eval mode.

    Raises:
        CheckpointError: unreadable checkpoint, or one whose weights do not fit the network its
            configuration describes.
    """
    ckpt_path = find_checkpoint(Path(path))
    ckpt = load_checkpoint(ckpt_path, map_location=device)
    stored = ckpt.get("config")
    if not isinstance(stored, dict):
        config_file = ckpt_path.parent / "config.json"
        if not config_file.is_file():
            raise CheckpointError(f"{ckpt_path}: holds no configuration and has no config.json beside it")
        stored = json.loads(config_file.read_text())
    cfg = _config_from(stored, ckpt_path)
    train = None
    if data is None:  # the run's test set (ResNet features for a --use-resnet run), as its network reads it
        inputs = load_inputs(cfg, torch.device(device), hold_out=False)
        data, train = inputs.test, inputs.train if isinstance(inputs.train, ImageSet) else None
    else:
        data = fit_input(data, cfg)  # e.g. grey images repeated to the 3 channels a conv model was trained on
    model = build_model(cfg, data)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{ckpt_path}: weights do not fit {cfg.model} ({first[:160]})") from None
    model.to(device).eval()
    return LoadedRun(model=model, cfg=cfg, dir=ckpt_path.parent, checkpoint=ckpt_path,
                     history=list(ckpt.get("history", [])), test=data, train=train)
