"""``snn train``: train a spiking network on a dataset, resumable, one run folder per setting."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..config import TrainConfig, from_seed_format, load_config_file
from ..data import ENCODINGS, list_datasets
from ..models import list_models
from ..neurons import SURROGATES
from .errors import user_errors
from .options import ConfigFile, JsonOut, collect, opt
from .progress import TrainProgress, result_table

app = typer.Typer()
C = TrainConfig
DATA, MODEL, NEURON, TRAIN, RUN = "Data and encoding", "Model", "Neurons", "Training", "Run"
DST = "Dynamic sparse training (--sparsity dynamic, or snn dst)"
CONV = "Conv networks (vgg6/11/16, simple_conv; PlasticFlex)"
BOOL = "BOOL"  # true/false, yes/no, 1/0: the seed's `--spiking true` spelling


def train_options_to_config(values: dict, config: Path | None) -> TrainConfig:
    """Merge a config file (ours, or a PlasticFlex seed config) and the flags given into a validated :class:`TrainConfig`."""
    file_values = from_seed_format(load_config_file(config)) if config else {}
    return TrainConfig(**collect(values, file_values))


@app.command("train")
def train_command(
    dataset: Annotated[Optional[str], opt(C, "dataset", choices=list_datasets(), panel=DATA)] = None,
    data_root: Annotated[Optional[Path], opt(C, "data_root", "--data-root", "--data_root", panel=DATA)] = None,
    enc: Annotated[Optional[str], opt(C, "enc", choices=ENCODINGS, panel=DATA)] = None,
    enc_scale: Annotated[Optional[float], opt(C, "enc_scale", "--enc-scale", "--enc_scale", panel=DATA)] = None,
    enc_bias: Annotated[Optional[float], opt(C, "enc_bias", "--enc-bias", "--enc_bias", panel=DATA)] = None,
    T: Annotated[Optional[int], opt(C, "T", "--T", "-T", panel=DATA)] = None,
    val_fraction: Annotated[Optional[float], opt(C, "val_fraction", "--val-fraction", panel=DATA)] = None,
    subset_sampling: Annotated[Optional[str], opt(C, "subset_sampling", "--subset-sampling", panel=DATA)] = None,
    normalize: Annotated[Optional[bool], opt(C, "normalize", "--normalize/--no-normalize", panel=DATA)] = None,
    input_noise: Annotated[Optional[float], opt(C, "input_noise", "--input-noise", panel=DATA)] = None,
    input_noise_eval: Annotated[Optional[bool], opt(C, "input_noise_eval", "--input-noise-eval/--no-input-noise-eval", panel=DATA)] = None,
    model: Annotated[Optional[str], opt(C, "model", choices=list_models(), panel=MODEL)] = None,
    hidden_dim: Annotated[Optional[int], opt(C, "hidden_dim", "--hidden-dim", "--hidden_dim", panel=MODEL)] = None,
    p_inter: Annotated[Optional[float], opt(C, "p_inter", "--p-inter", "--p_inter", panel=MODEL)] = None,
    groups: Annotated[Optional[int], opt(C, "groups", panel=MODEL)] = None,
    sparsity_mode: Annotated[
        Optional[str], opt(C, "sparsity_mode", "--sparsity", "--sparsity-mode", "--sparsity_mode", panel=MODEL)
    ] = None,
    cp: Annotated[Optional[str], opt(C, "cp", panel=DST)] = None,
    cg: Annotated[Optional[str], opt(C, "cg", panel=DST)] = None,
    update_every: Annotated[Optional[int], opt(C, "update_every", "--update-every", "--update_every", panel=DST)] = None,
    prune_fraction: Annotated[
        Optional[float], opt(C, "prune_fraction", "--prune-fraction", "--prune_fraction", panel=DST)
    ] = None,
    hebb_window: Annotated[Optional[int], opt(C, "hebb_window", "--hebb-window", "--hebb_window", panel=DST)] = None,
    use_resnet: Annotated[Optional[bool], opt(C, "use_resnet", "--use-resnet/--no-resnet", "--use_resnet", panel=MODEL)] = None,
    backbone: Annotated[Optional[Path], opt(C, "backbone", panel=MODEL)] = None,
    beta: Annotated[Optional[float], opt(C, "beta", "--beta", "--spiking-decay", "--spiking_decay", panel=NEURON)] = None,
    threshold: Annotated[
        Optional[float], opt(C, "threshold", "--threshold", "--spiking-threshold", "--spiking_threshold", panel=NEURON)
    ] = None,
    spiking: Annotated[Optional[str], opt(C, "spiking", metavar=BOOL, panel=CONV)] = None,
    use_stbp: Annotated[Optional[str], opt(C, "use_stbp", "--use-stbp", "--use_stbp", metavar=BOOL, panel=CONV)] = None,
    use_flex: Annotated[Optional[bool], opt(C, "use_flex", "--use-flex/--no-flex", "--use_flex", panel=CONV)] = None,
    flex_layers: Annotated[Optional[str], opt(C, "flex_layers", "--flex-layers", "--flex_layers", panel=CONV)] = None,
    masking_mechanism: Annotated[
        Optional[str], opt(C, "masking_mechanism", "--masking-mechanism", "--masking_mechanism", "--mask", panel=CONV)
    ] = None,
    logits_mechanism: Annotated[
        Optional[str], opt(C, "logits_mechanism", "--logits-mechanism", "--logits_mechanism", panel=CONV)
    ] = None,
    logits_use_batchnorm: Annotated[Optional[bool], opt(
        C, "logits_use_batchnorm", "--logits-use-batchnorm/--no-logits-batchnorm", "--logits_use_batchnorm", panel=CONV
    )] = None,
    joint_mechanism: Annotated[Optional[str], opt(C, "joint_mechanism", "--joint-mechanism", "--joint_mechanism", panel=CONV)] = None,
    flex_threshold: Annotated[Optional[str], opt(C, "flex_threshold", "--flex-threshold", panel=CONV)] = None,
    sigmoid_mul_factor: Annotated[Optional[float], opt(C, "sigmoid_mul_factor", "--sigmoid-mul-factor", "--sigmoid_mul_factor", panel=CONV)] = None,
    num_spatial_attention_block: Annotated[Optional[int], opt(
        C, "num_spatial_attention_block", "--num-spatial-attention-block", "--num_spatial_attention_block", panel=CONV)] = None,
    init: Annotated[Optional[str], opt(C, "init", panel=CONV)] = None,
    freeze_first_fc: Annotated[Optional[bool], opt(C, "freeze_first_fc", "--freeze-first-fc/--train-first-fc", panel=CONV)] = None,
    conv_pool_ratio: Annotated[
        Optional[str], opt(C, "conv_pool_ratio", "--conv-pool-ratio", "--conv_pool_ratio", metavar="A:B", panel=CONV)
    ] = None,
    dropout: Annotated[Optional[float], opt(C, "dropout", panel=CONV)] = None,
    width: Annotated[Optional[float], opt(C, "width", panel=CONV)] = None,
    in_shape: Annotated[
        Optional[str], opt(C, "in_shape", "--in-shape", "--in_dimensions", metavar="C,H,W", panel=CONV)
    ] = None,
    num_classes: Annotated[Optional[int], opt(C, "num_classes", "--num-classes", "--num_classes", panel=CONV)] = None,
    surrogate: Annotated[Optional[str], opt(C, "surrogate", choices=list(SURROGATES), panel=NEURON)] = None,
    neuron: Annotated[Optional[str], opt(C, "neuron", panel=NEURON)] = None,
    epochs: Annotated[Optional[int], opt(C, "epochs", panel=TRAIN)] = None,
    batch_size: Annotated[Optional[int], opt(C, "batch_size", "--batch-size", "--batch_size", "-b", panel=TRAIN)] = None,
    lr: Annotated[Optional[float], opt(C, "lr", "--lr", "--learning-rate", "--learning_rate", panel=TRAIN)] = None,
    lr_schedule: Annotated[Optional[str], opt(C, "lr_schedule", "--lr-schedule", panel=TRAIN)] = None,
    lr_step: Annotated[Optional[int], opt(C, "lr_step", "--lr-step", panel=TRAIN)] = None,
    lr_gamma: Annotated[Optional[float], opt(C, "lr_gamma", "--lr-gamma", panel=TRAIN)] = None,
    augment: Annotated[Optional[str], opt(C, "augment", panel=TRAIN)] = None,
    amp: Annotated[Optional[bool], opt(C, "amp", "--amp/--no-amp", panel=TRAIN)] = None,
    bn_recalibrate: Annotated[Optional[int], opt(C, "bn_recalibrate", "--bn-recalibrate", panel=TRAIN)] = None,
    optimizer: Annotated[Optional[str], opt(C, "optimizer", panel=TRAIN)] = None,
    momentum: Annotated[Optional[float], opt(C, "momentum", panel=TRAIN)] = None,
    weight_decay: Annotated[Optional[float], opt(C, "weight_decay", "--weight-decay", panel=TRAIN)] = None,
    loss: Annotated[Optional[str], opt(C, "loss", panel=TRAIN)] = None,
    enforce_sparsity: Annotated[
        Optional[bool], opt(C, "enforce_sparsity", "--enforce-sparsity/--no-enforce-sparsity", "--enforce_sparsity", panel=TRAIN)
    ] = None,
    warmup_epochs: Annotated[Optional[int], opt(C, "warmup_epochs", "--warmup-epochs", "--warmup_epochs", panel=TRAIN)] = None,
    rate_reg: Annotated[Optional[float], opt(C, "rate_reg", "--rate-reg", panel=TRAIN)] = None,
    alpha_reg: Annotated[Optional[float], opt(C, "alpha_reg", "--alpha-reg", "--alpha_reg", panel=TRAIN)] = None,
    weight_clip: Annotated[Optional[float], opt(C, "weight_clip", "--weight-clip", "--weight_clip", panel=TRAIN)] = None,
    max_batches: Annotated[Optional[int], opt(C, "max_batches", "--max-batches", panel=TRAIN)] = None,
    out: Annotated[Optional[Path], opt(C, "out", "--out", "-o", panel=RUN)] = None,
    seed: Annotated[Optional[int], opt(C, "seed", panel=RUN)] = None,
    device: Annotated[Optional[str], opt(C, "device", panel=RUN)] = None,
    precision: Annotated[Optional[str], opt(C, "precision", panel=RUN)] = None,
    engine: Annotated[Optional[str], opt(C, "engine", panel=RUN)] = None,
    force: Annotated[Optional[bool], opt(C, "force", "--force/--no-force", panel=RUN)] = None,
    threads: Annotated[Optional[int], opt(C, "threads", panel=RUN)] = None,
    config: ConfigFile = None,
    json_out: JsonOut = False,
) -> None:
    """Train a spiking network; re-running the same command resumes it, a finished one is skipped.

    Examples:

      snn train --epochs 1                                   # dense SNN on Fashion-MNIST

      snn train --model mixer --p-inter 0.15 --json | jq .test_acc

      snn train --config run.yaml --epochs 5                 # flags override the file

      snn train --model vgg11 --dataset cifar10 --use-flex --spiking true --use-stbp true \\
          --optimizer sgd --lr 0.1 --lr-schedule cosine          # Flex VGG-11 SNN (PlasticFlex)

      snn train --config configs/plasticflex_example.json     # a PlasticFlex seed config, as is

      snn train --model vgg6 --use-flex --flex-layers downsample   # Flex only at the 2x2 downsamplings

      snn train --model vgg6 --spiking true --neuron heaviside --use-stbp false   # what the seed's configs ran
    """
    values = {k: v for k, v in locals().items() if k not in ("config", "json_out")}
    with user_errors():
        cfg = train_options_to_config(values, config)
        run_and_report(cfg, json_out)


def dst_command(**options) -> None:
    """Dynamic sparse training: `snn train --sparsity dynamic`, the same run and code path.

    Every --update-every steps each sparse layer loses --prune-fraction of its connections
    (--cp set|random|hebb) and grows as many (--cg hebb|random); the count stays constant.

    Example: snn dst --model mixer --cp hebb --cg hebb --epochs 20
    """
    options["sparsity_mode"] = options.get("sparsity_mode") or "dynamic"
    train_command(**options)


dst_command.__signature__ = inspect.signature(train_command, eval_str=True)  # the options of `snn train`
app.command("dst")(dst_command)


def run_and_report(cfg: TrainConfig, json_out: bool) -> dict:
    from ..engine import train

    progress = TrainProgress()
    try:
        result = train(cfg, progress.callbacks(cfg.epochs))
    finally:
        progress.close()
    if json_out:
        typer.echo(json.dumps(result, default=str))
    else:
        Console().print(result_table(result, [
            "status", "run_dir", "test_acc", "val_acc", "train_acc", "test_loss",
            "samples_per_s", "time_s", "parameters", "connections", "sparsity",
        ]))
    return result
