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
        input: what the network reads: ``{"shape": [C, H, W], "num_classes", "classes", "dataset"}``.
        provenance: what produced the run (:func:`snncli.engine.provenance.provenance`; ``{}`` for
            checkpoints older than it).
        train: its whole training set, shaped alike, read on first use (``None`` when the caller passed ``data``).
    """

    model: torch.nn.Module
    cfg: TrainConfig
    dir: Path
    checkpoint: Path
    history: list[dict[str, Any]]
    input: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    _test: ImageSet | None = field(default=None, repr=False)
    _train: ImageSet | None = field(default=None, repr=False)
    _data_given: bool = field(default=False, repr=False)

    def _read_inputs(self) -> None:
        inputs = load_inputs(self.cfg, torch.device("cpu"), hold_out=False)
        if self._test is None:
            self._test = inputs.test
        self._train = inputs.train if isinstance(inputs.train, ImageSet) else None

    @property
    def test(self) -> ImageSet:
        """The run's test set (ResNet features for ``use_resnet`` runs), on the CPU, shaped as the network
        reads it; read from the run's dataset the first time it is asked for (the model does not need it)."""
        if self._test is None:
            self._read_inputs()
        return self._test

    @property
    def train(self) -> ImageSet | None:
        """The run's whole training set, shaped alike (``None`` when :func:`load_run` was given ``data``)."""
        if self._data_given:
            return None
        if self._train is None:
            self._read_inputs()
        return self._train

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
        data: the run's test set (or any set with its input shape and class count). When omitted,
            the network is rebuilt from the input shape and classes the checkpoint records, without
            the dataset, and :attr:`LoadedRun.test` reads the dataset the first time it is asked for
            (checkpoints older than that record: the dataset is read now).

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
    spec = ckpt.get("input")
    given = data is not None
    if given:
        data = fit_input(data, cfg)  # e.g. grey images repeated to the 3 channels a conv model was trained on
        shape_of = data
    elif _valid_input(spec):  # the checkpoint says what the network reads: no dataset needed to rebuild it
        shape_of = _stand_in(spec)
    else:  # older checkpoints: the run's test set tells the shape (ResNet features for a --use-resnet run)
        data = shape_of = load_inputs(cfg, torch.device(device), hold_out=False).test
    if spec is None or not _valid_input(spec):
        spec = {"shape": list(shape_of.shape), "num_classes": shape_of.num_classes,
                "classes": list(shape_of.classes), "dataset": shape_of.name}
    model = build_model(cfg, shape_of)
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
    origin = ckpt.get("provenance")
    return LoadedRun(model=model, cfg=cfg, dir=ckpt_path.parent, checkpoint=ckpt_path, history=list(history),
                     input=spec, provenance=origin if isinstance(origin, dict) else {}, _test=data,
                     _data_given=given)


def _valid_input(spec: Any) -> bool:
    """Whether a checkpoint's ``input`` entry is what the trainer writes (a forged one is ignored)."""
    if not isinstance(spec, dict):
        return False
    shape, n, classes = spec.get("shape"), spec.get("num_classes"), spec.get("classes")
    return (isinstance(shape, list) and len(shape) == 3 and all(type(d) is int and 0 < d <= 1 << 16 for d in shape)
            and type(n) is int and 0 < n <= 1 << 20 and isinstance(classes, list) and len(classes) == n
            and isinstance(spec.get("dataset"), str))


def _stand_in(spec: dict[str, Any]) -> ImageSet:
    """An empty set with the recorded input shape and classes: all :func:`build_model` reads of a dataset."""
    shape = tuple(spec["shape"])
    return ImageSet(x=torch.zeros((0, *shape), dtype=torch.uint8), y=torch.zeros(0, dtype=torch.long),
                    classes=[str(c) for c in spec["classes"]], name=spec["dataset"])
