"""The one input path of a run: its dataset (or frozen ResNet features), held-out validation, shaped as
its network expects. Training, cross-validation, analysis and plasticity all read inputs through
:func:`load_inputs`."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch

from ..config import TrainConfig
from ..data import DataSplits, ImageSet, broadcast_stats, load_dataset, normalization_stats, train_val_split
from ..errors import SnnError
from ..models import create_model, model_defaults
from ..models.reference import SnnTorchMLP
from .backbone import resnet_features


class InputMismatchError(SnnError, ValueError):
    """The dataset does not fit the configured input shape or class count."""


class Inputs(NamedTuple):
    """A run's inputs, shaped for its network (on the CPU; the trainer moves them).

    Attributes:
        train: the training set (without the held-out validation part).
        val: the validation set, or ``None``.
        test: the test set.
        source: where the data was read from.
        backbone_hash: the frozen ResNet's hash for ``use_resnet`` runs.
    """

    train: ImageSet
    val: ImageSet | None
    test: ImageSet
    source: str
    backbone_hash: str | None = None

    @property
    def splits(self) -> DataSplits:
        """Training and test sets as :class:`~snncli.data.DataSplits` (what :func:`~snncli.engine.train` takes)."""
        return DataSplits(train=self.train, test=self.test, source=self.source)


def load_inputs(
    cfg: TrainConfig, device: torch.device, data: DataSplits | None = None, val: ImageSet | None = None,
    hold_out: bool = True, fit: bool = True,
) -> Inputs:
    """The inputs ``cfg`` describes.

    Args:
        cfg: the run's settings (dataset, data root, ``use_resnet``, ``val_fraction``, ``in_shape``...).
        device: where ResNet features are computed.
        data: already-loaded splits, used as given (with ``use_resnet`` already the features).
        val: the validation set to use instead of holding out ``cfg.val_fraction`` (cross-validation folds).
        hold_out: hold out ``cfg.val_fraction`` of the training set for validation.
        fit: shape every set as the network expects (:func:`fit_input`).

    Raises:
        InputMismatchError: the data does not fit ``in_shape`` / ``num_classes``.
    """
    splits, backbone_hash = data, None
    if splits is None:
        splits = load_dataset(cfg.dataset, cfg.data_root, subset_sampling=cfg.subset_sampling)
        if cfg.use_resnet:
            splits, backbone_hash = resnet_features(
                cfg.dataset, splits, cfg.backbone, device, cut=cfg.resnet_cut, pretrained=cfg.pretrained
            )
    if val is not None:
        train_set, val_set = splits.train, val
    elif hold_out and cfg.val_fraction > 0:
        train_set, val_set = train_val_split(splits.train, cfg.val_fraction, cfg.seed)
    else:
        train_set, val_set = splits.train, None
    if fit:
        train_set, test_set = fit_input(train_set, cfg), fit_input(splits.test, cfg)
        val_set = fit_input(val_set, cfg) if val_set is not None else None
    else:
        test_set = splits.test
    return Inputs(train_set, val_set, test_set, splits.source, backbone_hash)


def fit_input(data: ImageSet, cfg: TrainConfig) -> ImageSet:
    """``data`` shaped as the run expects: grey images repeated to ``in_shape``'s 3 channels (a view).

    Raises:
        InputMismatchError: height/width or class count differ from ``in_shape``/``num_classes``.
    """
    if cfg.num_classes is not None and data.num_classes != cfg.num_classes:
        raise InputMismatchError(f"--num-classes: {data.name} has {data.num_classes} classes, the config says {cfg.num_classes}")
    if cfg.in_shape is None or tuple(cfg.in_shape) == data.shape:
        return data
    c, h, w = cfg.in_shape
    if (h, w) != data.shape[1:] or data.shape[0] not in (1, c):
        raise InputMismatchError(
            f"--in-shape: {data.name} images are {data.shape}, the network expects {tuple(cfg.in_shape)} "
            "(only 1 channel can be repeated to more)"
        )
    return dataclasses.replace(data, x=data.x.expand(-1, c, -1, -1))


def input_stats(cfg: TrainConfig, data: ImageSet) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``(mean, std)`` per input channel when the run normalises its inputs (``--channel-norm``), else ``None``.

    The seed's constants where it had them, else measured on ``data``; a loaded run's checkpoint
    holds the values it was trained with, which replace these.
    """
    if not cfg.channel_norm:
        return None
    x = data.x if isinstance(data, ImageSet) else None
    return broadcast_stats(normalization_stats(cfg.dataset, x), data.shape[0])


def build_model(cfg: TrainConfig, data: ImageSet) -> torch.nn.Module:
    """The run's network: every setting whose name is a parameter of the registered variant is passed on
    (and the input normalisation ``--channel-norm`` asks for)."""
    settings = cfg.model_dump(include=set(model_defaults(cfg.model)) - {"in_shape", "num_classes"})
    stats = input_stats(cfg, data)
    if stats is not None:
        settings["input_norm"] = stats
    try:
        model = create_model(cfg.model, in_shape=data.shape, num_classes=data.num_classes, mask_seed=cfg.seed, **settings)
    except ValueError as exc:  # the data does not fit the network (e.g. too small for its downsamplings)
        raise InputMismatchError(f"--model: {cfg.model} on {data.name}: {exc}") from None
    return SnnTorchMLP(model) if cfg.engine == "snntorch" else model
