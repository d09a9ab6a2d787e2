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
from .defaults import resolve_defaults
from .setting import setting

#: What --use-resnet implies unless given (the seed's src/train.py): rate-coded min-max features,
#: snnTorch's ce_rate_loss, and no augmentation (features are not images).
RESNET_DEFAULTS = {"enc": "rate", "loss": "rate", "augment": "none"}


def model_parameters(name: str) -> set[str]:
    """The keyword parameters model ``name``'s builder takes (empty for an unknown name: validation reports it)."""
    from ..models import MODELS, model_defaults

    return set(model_defaults(name)) if name in MODELS else set()


class TrainConfig(NetworkSettings, ConvNetSettings):
    """Every setting of a training run. Flags, config files and sweeps all fill this one model."""

    dataset: DatasetName = setting("fashionmnist", "Dataset name.", panel=DATA)
    epochs: int = setting(20, "Training epochs; raising it extends a finished run.", panel=TRAIN, ge=1, le=100_000,
                          extends=True)
    batch_size: int = setting(256, "Samples per training step.", panel=TRAIN, short="-b", ge=1, le=1_000_000)
    lr: float = setting(1e-3, "Learning rate.", panel=TRAIN, gt=0, le=10, seed="learning_rate")
    optimizer: Literal["adam", "sgd"] = setting("adam", "Optimizer.", panel=TRAIN)
    momentum: float = setting(0.9, "SGD momentum.", panel=TRAIN, ge=0, lt=1)
    weight_decay: float | None = setting(
        None, "L2 weight decay (model default: 1e-4 dense/G2G, as the seed; 0 others).", panel=TRAIN, ge=0, le=1,
        resolve=True, fallback=0.0,
    )
    enc_scale: float = setting(1.0, "Encoding scale: input = pixel * scale + bias.", panel=DATA, ge=-1e3, le=1e3)
    enc_bias: float = setting(0.0, "Encoding bias.", panel=DATA, ge=-1e3, le=1e3)
    beta: float | None = setting(
        None, "Membrane decay per step (model default if unset: 0.9 MLPs, 0.95 conv models).", panel=NEURON,
        gt=0, le=1, seed="spiking_decay", resolve=True, fallback=0.9,
    )
    threshold: float = setting(1.0, "Firing threshold.", panel=NEURON, gt=0, le=1e3, seed="spiking_threshold")
    learn_beta: bool = setting(False, "Learn each layer's decay beta (snnTorch's Leaky(learn_beta=True)); MLPs.", panel=NEURON)
    learn_threshold: bool = setting(False, "Learn each layer's firing threshold (Leaky(learn_threshold=True)); MLPs.",
                                    panel=NEURON)
    per_neuron: bool = setting(False, "A learned beta/threshold holds one value per neuron instead of one per layer.",
                               panel=NEURON, negative="--per-layer")
    surrogate: SurrogateName | None = setting(
        None, "Surrogate gradient (model default if unset: fast_sigmoid MLPs, atan conv models).", panel=NEURON,
        resolve=True, fallback="fast_sigmoid",
    )
    slope: float | None = setting(
        None, "Surrogate steepness (default: the surrogate's snnTorch default, 25 for the fast sigmoid, 2 for atan).",
        panel=NEURON, gt=0, le=1e3,
    )
    loss: Literal["count", "membrane", "rate"] | None = setting(
        None, "Cross-entropy on output spike counts; on time-summed membrane; or at every step on the output spikes, "
        "averaged over T (snnTorch's ce_rate_loss). Default: rate with --use-resnet (the seed), membrane for conv "
        "models, count for MLPs.", panel=TRAIN, resolve=True, fallback="count",
    )
    val_fraction: float | None = setting(
        None, "Share of the training set held out for validation (model default: 0 dense/G2G, as the seed; 0.1 others).",
        panel=DATA, ge=0, lt=1, resolve=True, fallback=0.1,
    )
    sparsity_mode: Literal["static", "dynamic"] = setting(
        "static", "static: fixed G2G masks; dynamic: prune and grow during training (DST).", panel=MODEL, flag="--sparsity",
    )
    cp: PruneRuleName = setting("set", "DST prune rule.", panel=DST)
    cg: GrowRuleName = setting("hebb", "DST grow rule.", panel=DST)
    update_every: int = setting(1000, "DST: optimizer steps between prune-and-grow updates.", panel=DST, ge=1)
    prune_fraction: float = setting(0.1, "DST: share of each layer's connections replaced per update.", panel=DST, gt=0, lt=1)
    hebb_window: int = setting(1024, "DST, --dst-corr pearson: samples of recent spike counts correlated.", panel=DST, ge=2,
                              le=1_000_000)
    dst_corr: Literal["cosine", "pearson"] = setting(
        "cosine", "DST Hebbian correlation: cosine of the pre/post spike trains of the update step's batch (the seed), "
        "or Pearson |C| of spike counts over --hebb-window samples.", panel=DST,
    )
    dst_count: Literal["seed", "exact"] = setting(
        "seed", "DST count: seed (floor(fraction*active), magnitude ties all pruned, regrowth among all inactive) or "
        "exact (round(fraction*active) exactly, the just-pruned not regrown).", panel=DST,
    )
    dst_rewired: Literal["keep", "reset"] = setting(
        "keep", "DST rewired weights: keep their values and optimizer state (the seed), or reset (zeroed, Adam "
        "moments cleared).", panel=DST,
    )
    enforce_sparsity: bool = setting(False, "Firing-rate regularisation after the warm-up.", panel=TRAIN)
    warmup_epochs: int = setting(10, "Epochs before firing-rate regularisation starts.", panel=TRAIN, ge=0)
    rate_penalty: Literal["seed", "mean"] = setting(
        "seed", "Firing-rate penalty: seed (sum over hidden neurons of (rate - target)^2, weight rising 1e-4 -> 1e-2 "
        "and target falling 0.25 -> 0.09 after the warm-up) or mean (--rate-reg x sum of hidden layers' mean rates).",
        panel=TRAIN,
    )
    rate_reg: float = setting(1e-2, "Weight of the --rate-penalty mean penalty.", panel=TRAIN, ge=0, le=1e3)
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
    resnet_cut: bool = setting(
        False, "--use-resnet features from the README's ResNet cut after its second stage (512); default: the seed "
        "code's whole network, pooled 4x4 (1024).", panel=MODEL,
    )
    backbone: Path | None = setting(
        None, "CIFAR ResNet-32 weights for --use-resnet: a state dict (chenyaofo/pytorch-cifar-models layout or ours) "
        "or an `snn backbone train` checkpoint (default: the one it cached).", panel=MODEL, identity=False,
    )
    pretrained: bool = setting(
        False, "--use-resnet: fetch the seed's pretrained CIFAR ResNet-32 with torch.hub (needs internet).", panel=MODEL,
    )
    data_root: ExistingDir = setting(None, "Folder with the dataset files.", panel=DATA, identity=False)
    subset_sampling: Literal["readme", "seed"] = setting(
        "readme", "CIFAR-10 subsets as the PlasticFlex README sizes them (balanced) or as its code draws them "
        "(numpy seed 42).", panel=CONV,
    )
    out: WritableDir = setting(Path("runs"), "Folder that holds run folders.", panel=RUN, short="-o", identity=False)
    seed: int = setting(42, "Seed for Python, NumPy and torch.", panel=RUN, ge=0, le=SEED_MAX)
    device: Device = setting("auto", "auto picks CUDA, then MPS, then DirectML, then CPU; cuda:N the N-th GPU.", panel=RUN, identity=False)
    precision: Precision = setting(
        "auto", "bf16: spike x weight products in bfloat16 (exact spikes, fp32 accumulation); fp32-events: fp32, "
        "sparse spike inputs summed event by event (first order only); fp32: dense and exact, twice differentiable. "
        "auto: bf16 where it is fast, else fp32-events on CPU, else fp32.", panel=RUN,
    )
    engine: Literal["snn", "snntorch"] = setting(
        "snn", "snntorch: train the same network with snnTorch's per-step Leaky loop (parity checks).", panel=RUN,
    )
    force: bool = setting(False, "Start the run over instead of returning or resuming it.", panel=RUN, identity=False)
    logger: Literal["none", "tensorboard"] = setting(
        "none", "Also log live curves: tensorboard writes RUN/tensorboard/ (pip install 'snncli[tensorboard]'); "
        "metrics.csv/jsonl stay the record.", panel=RUN, identity=False,
    )
    threads: int | None = setting(
        None, "torch CPU threads for this run (default: all cores; crossval/sweep workers: cores / jobs). "
        "Float sums depend on it: the same --threads gives the same numbers serially and with --jobs.",
        panel=RUN, ge=1, le=1024, identity=False,
    )

    nproc: int = setting(
        1, "Data-parallel worker processes on this machine (torch.distributed DDP: gloo on CPU, NCCL with one GPU "
        "each on CUDA). The global batch stays --batch-size, split across the workers; rank 0 alone writes. "
        "Across machines, start snn with torchrun instead.", panel=RUN, ge=1, le=1024, identity=False,
    )
    micro_batches: int = setting(
        1, "Split each batch (each worker's share with --nproc) into this many parts whose gradients are summed "
        "before one optimizer step: less memory, the same step up to float rounding (BatchNorm layers see the "
        "parts). --nproc 2 gives the weights of --micro-batches 2 bit for bit, at the same --threads.",
        panel=RUN, ge=1, le=1_000_000, identity=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data):
        # ResNet features, as the seed feeds them: rate coded, per-step rate loss, never cropped or flipped.
        if isinstance(data, dict) and data.get("use_resnet"):
            data = {**data, **{k: v for k, v in RESNET_DEFAULTS.items() if data.get(k) is None}}
        return resolve_defaults(cls, data)

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.nproc * self.micro_batches > self.batch_size:
            raise ValueError(f"nproc: {self.nproc} workers x {self.micro_batches} micro-batches is more parts than "
                             f"--batch-size {self.batch_size} has samples")
        if self.use_resnet and self.dataset not in cifar_like():
            raise ValueError(f"use_resnet: the ResNet-32 features need a CIFAR dataset ({', '.join(cifar_like())})")
        if self.use_resnet and self.augment == "crop-flip":
            raise ValueError("augment: --use-resnet feeds the SNN cached ResNet features, which cannot be cropped or flipped")
        if self.backbone is not None and not self.backbone.is_file():
            raise ValueError(f"backbone: no such file: {self.backbone}")
        if self.pretrained and self.backbone is not None:
            raise ValueError("pretrained: give either --pretrained (torch.hub) or --backbone FILE, not both")
        params = model_parameters(self.model)
        for key in ("learn_beta", "learn_threshold", "match_params", "hidden_layers", "readout", "init"):
            if getattr(self, key) not in (None, False) and key not in params:
                raise ValueError(f"{key}: {self.model} does not take it")
        if self.init is not None and "init" in params:
            choices = ("seed", "torch") if self.model in registry("model").names(family="g2g") else ("torch", "kaiming")
            if self.init not in choices:
                raise ValueError(f"init: {self.model} takes {' or '.join(choices)}, not {self.init}")
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
            name = "resnet_" + name + ("_cut" if self.resnet_cut else "")
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
