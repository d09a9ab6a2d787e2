"""The supervised baseline of the plasticity experiment: trained (resumably) by ``snn train``, or a given run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ...config import TrainConfig
from ...config.plasticity import PlasticityConfig
from ...data import DataSplits, resolve_normalization
from ...engine.checkpoint import CheckpointError
from ...engine.inputs import load_inputs
from ...engine.runs import RunPaths, load_run
from ...engine.trainer import train
from ...models import SpikingMLP, create_model
from ...models.reference import SnnTorchMLP
from .common import PlasticityCallbacks, PlasticityInputError, experiment_dir


@dataclass
class Baseline:
    model: SpikingMLP
    tcfg: TrainConfig
    history: list[dict[str, Any]]
    splits: DataSplits
    source: str  # the run folder it came from


def _as_two_layer_mlp(model: torch.nn.Module, tcfg: TrainConfig, path: Path) -> SpikingMLP:
    """The checkpoint's network as a dense 2-layer :class:`SpikingMLP`, or a one-line refusal."""
    if tcfg.use_resnet:
        raise PlasticityInputError(f"--checkpoint: {path} reads ResNet features, not images; plasticity needs in-hidden-classes on pixels")
    if isinstance(model, SnnTorchMLP):  # an `--engine snntorch` run: same weights, rebuild as the fused model
        masks = [getattr(model, f"mask{i}") for i in range(len(model.linears))]
        if len(model.linears) == 2 and all(m is None for m in masks):
            mlp = create_model("mlp", in_shape=(model.linears[0].in_features,), num_classes=model.linears[1].out_features,
                               hidden_dim=model.linears[0].out_features, T=tcfg.T, beta=tcfg.beta,
                               threshold=tcfg.threshold, surrogate=tcfg.surrogate)
            for dst, src in zip(mlp.layers, model.linears):
                dst.weight.data.copy_(src.weight.data)
                dst.bias.data.copy_(src.bias.data)
            return mlp
    if isinstance(model, SpikingMLP) and len(model.layers) == 2 and all(l.mask is None for l in model.layers):
        return model
    sizes = getattr(model, "sizes", None)
    shape = "-".join(map(str, sizes)) if sizes else type(model).__name__
    raise PlasticityInputError(
        f"--checkpoint: {path} is a {tcfg.model} network ({shape}); plasticity needs a dense "
        "input-hidden-classes spiking MLP (model mlp)"
    )


def supervised_baseline(cfg: PlasticityConfig, cb: PlasticityCallbacks, device: torch.device) -> Baseline:
    """Train (resume, or reuse) the supervised baseline, or load it from ``cfg.checkpoint``.

    A trained baseline reads its input normalised by ``cfg.normalize`` (as the run's ``enc_scale`` /
    ``enc_bias``); a checkpoint keeps the normalisation it was trained with.
    """
    if cfg.checkpoint is not None:
        try:
            run = load_run(cfg.checkpoint, device)
        except CheckpointError as exc:
            raise PlasticityInputError(f"--checkpoint: {exc}") from None
        model = _as_two_layer_mlp(run.model, run.cfg, run.checkpoint).to(device)
        splits = load_inputs(run.cfg, device, hold_out=False).splits
        if model.layers[0].in_features != math.prod(splits.train.shape) or model.layers[1].out_features != splits.train.num_classes:
            raise PlasticityInputError(f"--checkpoint: {run.checkpoint} does not fit {run.cfg.dataset}'s images and classes")
        cb.on_log(f"baseline: {run.checkpoint} (epoch {len(run.history)})")
        return Baseline(model, run.cfg, run.history, splits, str(run.dir))
    # The normalisation is the training set's: read the data first, then settle the run's encoder.
    splits = load_inputs(cfg.train_config(), device, hold_out=False).splits
    tcfg = cfg.train_config(resolve_normalization(cfg.normalize, splits.train))
    paths = RunPaths(experiment_dir(cfg) / "baseline", tcfg.run_name())
    train(tcfg, cb.train, data=splits, paths=paths)
    run = load_run(paths.dir, device, data=splits.test)
    return Baseline(run.model, run.cfg, run.history, splits, str(paths.dir))
