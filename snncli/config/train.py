"""Configuration of ``snn train`` (and of every command that trains through the same engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator

from .conv import ConvNetSettings
from .fields import (
    CONV,
    DATA,
    DST,
    MODEL,
    NEURON,
    RUN,
    TRAIN,
    DatasetName,
    Device,
    ExistingDir,
    SEED_MAX,
    WritableDir,
    GrowRuleName,
    NetworkSettings,
    Precision,
    PruneRuleName,
    SurrogateName,
    cifar_like,
    registry,
)
from .setting import setting


class TrainConfig(NetworkSettings, ConvNetSettings):
    """Every setting of a training run. Flags, config files and sweeps all fill this one model."""

    dataset: DatasetName = setting("fashionmnist", "Dataset name.", panel=DATA)
    epochs: int = setting(20, "Training epochs; raising it extends a finished run.", panel=TRAIN, ge=1, le=100_000,
                          extends=True)
    batch_size: int = setting(256, "Samples per training step.", panel=TRAIN, short="-b", ge=1, le=1_000_000)
    lr: float = setting(1e-3, "Learning rate.", panel=TRAIN, gt=0, le=10, seed="learning_rate")
    optimizer: Literal["adam", "sgd"] = setting("adam", "Optimizer.", panel=TRAIN)
    momentum: float = setting(0.9, "SGD momentum.", panel=TRAIN, ge=0, lt=1)
    weight_decay: float = setting(0.0, "L2 weight decay.", panel=TRAIN, ge=0, le=1)
    enc_scale: float = setting(1.0, "Encoding scale: input = pixel * scale + bias.", panel=DATA, ge=-1e3, le=1e3)
    enc_bias: float = setting(0.0, "Encoding bias.", panel=DATA, ge=-1e3, le=1e3)
    beta: float | None = setting(
        None, "Membrane decay per step (model default if unset: 0.9 MLPs, 0.95 conv models).", panel=NEURON,
        gt=0, le=1, seed="spiking_decay", resolve=True, fallback=0.9,
    )
    threshold: float = setting(1.0, "Firing threshold.", panel=NEURON, gt=0, le=1e3, seed="spiking_threshold")
    surrogate: SurrogateName | None = setting(
        None, "Surrogate gradient (model default if unset: fast_sigmoid MLPs, atan conv models).", panel=NEURON,
        resolve=True, fallback="fast_sigmoid",
    )
    loss: Literal["count", "membrane"] | None = setting(
        None, "Cross-entropy on output spike counts, or on time-summed membrane (default: membrane for conv models, "
        "count for MLPs).", panel=TRAIN, resolve=True, fallback="count",
    )
    val_fraction: float = setting(0.1, "Share of the training set held out for validation.", panel=DATA, ge=0, lt=1)
    sparsity_mode: Literal["static", "dynamic"] = setting(
        "static", "static: fixed G2G masks; dynamic: prune and grow during training (DST).", panel=MODEL, flag="--sparsity",
    )
    cp: PruneRuleName = setting("set", "DST prune rule.", panel=DST)
    cg: GrowRuleName = setting("hebb", "DST grow rule.", panel=DST)
    update_every: int = setting(1000, "DST: optimizer steps between prune-and-grow updates.", panel=DST, ge=1)
    prune_fraction: float = setting(0.1, "DST: share of each layer's connections replaced per update.", panel=DST, gt=0, lt=1)
    hebb_window: int = setting(1024, "DST: samples of recent spike counts the Hebbian rules correlate.", panel=DST, ge=2,
                              le=1_000_000)
    enforce_sparsity: bool = setting(False, "Firing-rate regularisation after the warm-up.", panel=TRAIN)
    warmup_epochs: int = setting(10, "Epochs before firing-rate regularisation starts.", panel=TRAIN, ge=0)
    rate_reg: float = setting(1e-2, "Weight of the firing-rate penalty.", panel=TRAIN, ge=0, le=1e3)
    alpha_reg: float = setting(
        0.0, "Spike-activity penalty: alpha times the --alpha-reg-term, added to the loss.", panel=TRAIN, ge=0, le=1e3,
    )
    alpha_reg_term: Literal["all-spikes", "output-mean"] = setting(
        "all-spikes", "all-spikes: spikes per sample summed over every layer and step; output-mean: the mean of the "
        "output spikes over steps, samples and classes (the plasticity seed's spk_rec.mean(), snn plasticity's default).",
        panel=TRAIN,
    )
    weight_clip: float | None = setting(
        None, "Clamp every weight and bias to [-c, c] after each optimizer step (none if unset).", panel=TRAIN, gt=0, le=1e3,
    )
    max_batches: int | None = setting(
        None, "Stop each epoch after this many batches (smoke runs; part of the run's identity).", panel=TRAIN, ge=1,
    )
    use_resnet: bool = setting(False, "Feed the SNN frozen ResNet-32 features (CIFAR datasets).", panel=MODEL,
                               negative="--no-resnet")
    backbone: Path | None = setting(
        None, "Trained ResNet-32 for --use-resnet (default: the one `snn backbone train` cached).", panel=MODEL,
        identity=False,
    )
    data_root: ExistingDir = setting(None, "Folder with the dataset files.", panel=DATA, identity=False)
    subset_sampling: Literal["readme", "seed"] = setting(
        "readme", "CIFAR-10 subsets as the PlasticFlex README sizes them (balanced) or as its code draws them "
        "(numpy seed 42).", panel=CONV,
    )
    out: WritableDir = setting(Path("runs"), "Folder that holds run folders.", panel=RUN, short="-o", identity=False)
    seed: int = setting(42, "Seed for Python, NumPy and torch.", panel=RUN, ge=0, le=SEED_MAX)
    device: Device = setting("auto", "auto picks CUDA, then MPS, then DirectML, then CPU.", panel=RUN, identity=False)
    precision: Precision = setting(
        "auto", "bf16: spike x weight products in bfloat16 (exact spikes, fp32 accumulation).", panel=RUN,
    )
    engine: Literal["snn", "snntorch"] = setting(
        "snn", "snntorch: train the same network with snnTorch's per-step Leaky loop (parity checks).", panel=RUN,
    )
    force: bool = setting(False, "Start the run over instead of returning or resuming it.", panel=RUN, identity=False)
    threads: int | None = setting(
        None, "torch CPU threads for this run (default: all cores; crossval/sweep workers: cores / jobs). "
        "Float sums depend on it: the same --threads gives the same numbers serially and with --jobs.",
        panel=RUN, ge=1, le=1024, identity=False,
    )

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.use_resnet and self.dataset not in cifar_like():
            raise ValueError(f"use_resnet: the ResNet-32 features need a CIFAR dataset ({', '.join(cifar_like())})")
        if self.backbone is not None and not self.backbone.is_file():
            raise ValueError(f"backbone: no such file: {self.backbone}")
        if self.alpha_reg > 0 and self.spiking is False:
            raise ValueError("alpha_reg: the spike-activity penalty needs a spiking network (--spiking true)")
        sparse = registry("model").names(family="g2g")
        if self.sparsity_mode == "dynamic" and self.model not in sparse:
            raise ValueError(
                f"sparsity_mode: dynamic sparse training needs a sparse model ({', '.join(sparse)}); "
                f"{self.model} has no sparse layers"
            )
        return self

    @property
    def encoding(self):
        """How inputs become spike sequences: :class:`snncli.data.Encoding` ``(T, kind, scale, bias)``."""
        from ..data import Encoding

        return Encoding(self.T, self.enc, self.enc_scale, self.enc_bias)

    def run_name(self) -> str:
        """The seeds' run names.

        MLPs (G2G seed): ``[resnet_]{dataset}_{model}_p{p_inter}_T{T}_{enc}[_cp{cp}_cg{cg}]``.
        Conv models (PlasticFlex seed): ``{dataset}_{model}_{ANN|SNN}_{STBP|NoSTBP}_{FLEX|NoFLEX}``,
        then ``_T{T}`` for an SNN, ``_{mask or joint}_r{a}-{b}[_flexdownsample][_thrredrawn][_{logits}]`` with
        Flex, tags for the seed's options where set (``_heaviside``, ``_kaiming``, ``_norm``, ``_noise{std}``,
        ``_fc1frozen``, ``_seedsubset``), ``_w{width}`` below full width.
        """
        if self.model in registry("model").names(family="conv"):
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
        from ..data import has_subset_sampling  # torch: when a run is named, not when the CLI is built

        tags = {"neuron": self.neuron != "lif", "kaiming": self.init == "kaiming", "norm": self.channel_norm,
                f"noise{self.input_noise:g}": self.input_noise > 0, "fc1frozen": self.freeze_first_fc,
                "seedsubset": self.subset_sampling == "seed" and has_subset_sampling(self.dataset)}
        parts += [self.neuron if tag == "neuron" else tag for tag, on in tags.items() if on]
        if self.width != 1.0:
            parts.append(f"w{self.width:g}")
        return "_".join(parts)
