"""Configuration of ``snn train`` (and of every command that trains through the same engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..data import has_subset_sampling
from ..models import is_conv_model, list_models, model_defaults
from .conv import ConvNetSettings
from .fields import (
    CIFAR_LIKE,
    DatasetName,
    Device,
    ExistingDir,
    NetworkSettings,
    Precision,
    SurrogateName,
)


class TrainConfig(NetworkSettings, ConvNetSettings):
    """Every setting of a training run. Flags, config files and sweeps all fill this one model."""

    dataset: DatasetName = Field("fashionmnist", description="Dataset name.")
    epochs: int = Field(20, ge=1, description="Training epochs.")
    batch_size: int = Field(256, ge=1, description="Samples per training step.")
    lr: float = Field(1e-3, gt=0, description="Learning rate.")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="Optimizer.")
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")
    enc_scale: float = Field(1.0, description="Encoding scale: input = pixel * scale + bias.")
    enc_bias: float = Field(0.0, description="Encoding bias.")
    beta: float | None = Field(
        None, gt=0, le=1, description="Membrane decay per step (model default if unset: 0.9 MLPs, 0.95 conv models)."
    )
    threshold: float = Field(1.0, gt=0, description="Firing threshold.")
    surrogate: SurrogateName | None = Field(
        None, description="Surrogate gradient (model default if unset: fast_sigmoid MLPs, atan conv models)."
    )
    loss: Literal["count", "membrane"] | None = Field(
        None, description="Cross-entropy on output spike counts, or on time-summed membrane (default: membrane for conv models, count for MLPs)."
    )
    val_fraction: float = Field(0.1, ge=0, lt=1, description="Share of the training set held out for validation.")
    sparsity_mode: Literal["static", "dynamic"] = Field(
        "static", description="static: fixed G2G masks; dynamic: prune and grow during training (DST)."
    )
    cp: Literal["set", "random", "hebb"] = Field("set", description="DST prune rule.")
    cg: Literal["hebb", "random"] = Field("hebb", description="DST grow rule.")
    update_every: int = Field(1000, ge=1, description="DST: optimizer steps between prune-and-grow updates.")
    prune_fraction: float = Field(0.1, gt=0, lt=1, description="DST: share of each layer's connections replaced per update.")
    hebb_window: int = Field(1024, ge=2, description="DST: samples of recent spike counts the Hebbian rules correlate.")
    enforce_sparsity: bool = Field(False, description="Firing-rate regularisation after the warm-up.")
    warmup_epochs: int = Field(10, ge=0, description="Epochs before firing-rate regularisation starts.")
    rate_reg: float = Field(1e-2, ge=0, description="Weight of the firing-rate penalty.")
    alpha_reg: float = Field(
        0.0, ge=0, description="Spike-activity penalty: alpha * spikes per sample (all layers, all steps) added to the loss."
    )
    weight_clip: float | None = Field(
        None, gt=0, description="Clamp every weight and bias to [-c, c] after each optimizer step (none if unset)."
    )
    use_resnet: bool = Field(False, description="Feed the SNN frozen ResNet-32 features (CIFAR datasets).")
    backbone: Path | None = Field(None, description="Trained ResNet-32 for --use-resnet (default: the one `snn backbone train` cached).")
    data_root: ExistingDir = Field(None, description="Folder with the dataset files.")
    subset_sampling: Literal["readme", "seed"] = Field(
        "readme",
        description="CIFAR-10 subsets as the PlasticFlex README sizes them (balanced) or as its code draws them (numpy seed 42).",
    )
    out: Path = Field(Path("runs"), description="Folder that holds run folders.")
    seed: int = Field(42, description="Seed for Python, NumPy and torch.")
    device: Device = Field("auto", description="auto picks CUDA, then MPS, then DirectML, then CPU.")
    precision: Precision = Field(
        "auto", description="bf16: spike x weight products in bfloat16 (exact spikes, fp32 accumulation)."
    )
    engine: Literal["snn", "snntorch"] = Field(
        "snn", description="snntorch: train the same network with snnTorch's per-step Leaky loop (parity checks)."
    )
    force: bool = Field(False, description="Re-run a finished run instead of skipping it.")
    threads: int | None = Field(
        None, ge=1, le=1024,
        description="torch CPU threads for this run (default: all cores; crossval/sweep workers: cores / jobs). "
        "Float sums depend on it: the same --threads gives the same numbers serially and with --jobs.",
    )
    max_batches: int | None = Field(None, ge=1, description="Stop each epoch after this many batches (smoke runs).")

    @model_validator(mode="after")
    def _consistent(self) -> "TrainConfig":
        conv = is_conv_model(self.model)
        model_beta = model_defaults(self.model).get("beta", 0.9)
        defaults = {
            "beta": model_beta,
            "surrogate": model_defaults(self.model).get("surrogate", "fast_sigmoid"),
            "loss": "membrane" if conv else "count",
            "augment": "crop-flip" if self.dataset in CIFAR_LIKE() else "none",
        }
        for key, value in defaults.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)  # bypass validate_assignment (it would recurse)
        if self.use_resnet and self.dataset not in CIFAR_LIKE():
            raise ValueError(f"use_resnet: the ResNet-32 features need a CIFAR dataset ({', '.join(CIFAR_LIKE())})")
        if self.backbone is not None and not self.backbone.is_file():
            raise ValueError(f"backbone: no such file: {self.backbone}")
        spiking = self.spiking if self.spiking is not None else model_defaults(self.model).get("spiking", True)
        if self.alpha_reg > 0 and not spiking:
            raise ValueError("alpha_reg: the spike-activity penalty needs a spiking network (--spiking true)")
        if self.sparsity_mode == "dynamic" and "p_inter" not in model_defaults(self.model):
            sparse = [m for m in list_models() if "p_inter" in model_defaults(m)]
            raise ValueError(
                f"sparsity_mode: dynamic sparse training needs a sparse model ({', '.join(sparse)}); "
                f"{self.model} has no sparse layers"
            )
        return self

    def run_name(self) -> str:
        """The seeds' run names.

        MLPs (G2G seed): ``[resnet_]{dataset}_{model}_p{p_inter}_T{T}_{enc}[_cp{cp}_cg{cg}]``.
        Conv models (PlasticFlex seed): ``{dataset}_{model}_{ANN|SNN}_{STBP|NoSTBP}_{FLEX|NoFLEX}``,
        then ``_T{T}`` for an SNN, ``_{mask or joint}_r{a}-{b}[_flexdownsample][_thrredrawn][_{logits}]`` with
        Flex, tags for the seed's options where set (``_heaviside``, ``_kaiming``, ``_norm``, ``_noise{std}``,
        ``_fc1frozen``, ``_seedsubset``), ``_w{width}`` below full width.
        """
        if is_conv_model(self.model):
            return self._conv_run_name()
        name = f"{self.dataset}_{self.model}_p{self.p_inter:g}_T{self.T}_{self.enc}"
        if self.use_resnet:
            name = "resnet_" + name
        if self.sparsity_mode == "dynamic":
            name += f"_cp{self.cp}_cg{self.cg}"
        return name + ("_snntorch" if self.engine == "snntorch" else "")

    def _conv_run_name(self) -> str:
        parts = [self.dataset, self.model, "SNN" if self.spiking else "ANN",
                 "STBP" if self.use_stbp else "NoSTBP", "FLEX" if self.use_flex else "NoFLEX"]
        if self.spiking:
            parts.append(f"T{self.T}")
        if self.use_flex:
            a, b = self.conv_pool_ratio
            parts += [self.masking_mechanism.lower() if self.joint_mechanism == "NONE" else self.joint_mechanism.lower(),
                      f"r{a:g}-{b:g}"]
            if self.flex_layers != "all":
                parts.append(f"flex{self.flex_layers}")
            if self.flex_threshold != "learned":
                parts.append(f"thr{self.flex_threshold}")
            if self.logits_mechanism != "THRESHOLD":
                parts.append(self.logits_mechanism.lower())
        # The seed's conventions and bugs chosen as options: only where they differ from the defaults.
        tags = {"neuron": self.neuron != "lif", "kaiming": self.init == "kaiming", "norm": self.normalize,
                f"noise{self.input_noise:g}": self.input_noise > 0, "fc1frozen": self.freeze_first_fc,
                "seedsubset": self.subset_sampling == "seed" and has_subset_sampling(self.dataset)}
        parts += [self.neuron if tag == "neuron" else tag for tag, on in tags.items() if on]
        if self.width != 1.0:
            parts.append(f"w{self.width:g}")
        return "_".join(parts)
