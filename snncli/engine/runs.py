"""Run folders: where a run lives, and finding and loading finished (or part-finished) runs, what
every analysis command starts from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from pydantic import ValidationError

from ..config import TrainConfig, describe_validation_error
from ..config.setting import seed_keys
from ..data import ImageSet
from ..errors import SnnError
from .checkpoint import CheckpointError, load_checkpoint
from .guards import detail, model_non_finite, named
from .inputs import build_model, fit_input, load_inputs


class BrokenFileError(SnnError, ValueError):
    """A file of a run folder (``config.json``, ``result.json``, ``metrics.jsonl``...) that is not what snn wrote."""


def read_json(path: Path, what: str = "", lines: bool = False) -> Any:
    """The JSON in ``path`` (``lines``: one value per non-empty line), or one :class:`BrokenFileError` line.

    UTF-8 with or without a byte-order mark; anything else, or invalid JSON, is refused naming the file.
    """
    hint = what or "fix or remove it, or start the run over with --force"
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BrokenFileError(f"{path}: not UTF-8 text (byte {exc.start}); {hint}") from None
    except IsADirectoryError:
        raise BrokenFileError(f"{path}: a folder, not a file; {hint}") from None
    except OSError as exc:
        raise BrokenFileError(f"{path}: cannot read it ({exc.strerror or exc}); {hint}") from None
    try:
        if lines:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except ValueError as exc:
        raise BrokenFileError(f"{path}: not valid JSON ({str(exc).splitlines()[0]}); {hint}") from None


def read_json_object(path: Path, what: str = "") -> dict[str, Any]:
    """:func:`read_json` of a file that must hold one JSON object."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise BrokenFileError(f"{path}: holds {type(data).__name__}, not a JSON object; "
                              f"{what or 'fix or remove it, or start the run over with --force'}")
    return data


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
    setting's seed name (``num_spatial_attention_block``) is read as that setting, as in config files;
    a boolean ``normalize`` (runs of the ``flex`` branch before the merge with ``snn plasticity``'s
    ``--normalize dataset|mnist|none``) is ``channel_norm``.
    """
    renamed = seed_keys(TrainConfig)
    out = {(renamed[k] if k in renamed and renamed[k] not in stored else k): v for k, v in stored.items()}
    if isinstance(out.get("normalize"), bool) and "channel_norm" not in out:
        out["channel_norm"] = out.pop("normalize")
    if out.get("use_flex") and "flex_layers" not in out:
        out["flex_layers"] = "downsample"
    return out


def _config_from(stored: dict[str, Any], path: Path) -> TrainConfig:
    stored = stored_settings(stored)
    try:
        return TrainConfig.model_validate(stored)
    except ValidationError as exc:  # names the setting: "--lr: Input should be ..."
        raise CheckpointError(f"{path}: its stored configuration is not valid here ({describe_validation_error(exc)})") from None
    except SnnError as exc:  # e.g. a model no longer registered
        raise CheckpointError(f"{path}: its stored configuration is not valid here ({exc})") from None


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
        stored = read_json_object(config_file)
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
    except (RuntimeError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{ckpt_path}: weights do not fit {cfg.model} ({detail(exc)})") from None
    bad = model_non_finite(model)
    if bad:
        raise CheckpointError(f"{ckpt_path}: holds non-finite weights (NaN or inf in {named(bad)}): the run diverged; "
                              "retrain it (e.g. with a lower --lr) before analysing it")
    history = ckpt.get("history", [])
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise CheckpointError(f"{ckpt_path}: its history is not a list of epoch rows")
    model.to(device).eval()
    return LoadedRun(model=model, cfg=cfg, dir=ckpt_path.parent, checkpoint=ckpt_path, history=list(history), test=data,
                     train=train)
