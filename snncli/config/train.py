"""Configuration of ``snn train`` (and of every command that trains through the same engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..models import G2G_FAMILY, is_conv_model, list_models, model_defaults, training_defaults
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
    weight_decay: float | None = Field(
        None, ge=0, description="L2 weight decay (model default if unset: 1e-4 G2G models, as the seed; 0 others)."
    )
    enc_scale: float = Field(1.0, description="Encoding scale: input = pixel * scale + bias.")
    enc_bias: float = Field(0.0, description="Encoding bias.")
    beta: float | None = Field(
        None, gt=0, le=1, description="Membrane decay per step (model default if unset: 0.9 MLPs, 0.95 conv models)."
    )
    threshold: float = Field(1.0, gt=0, description="Firing threshold.")
    surrogate: SurrogateName | None = Field(
        None, description="Surrogate gradient (model default if unset: fast_sigmoid MLPs, atan conv models)."
    )
    learn_beta: bool = Field(False, description="Learn each layer's decay beta (snnTorch's Leaky(learn_beta=True)); MLPs.")
    learn_threshold: bool = Field(False, description="Learn each layer's firing threshold (Leaky(learn_threshold=True)); MLPs.")
    per_neuron: bool = Field(False, description="A learned beta/threshold holds one value per neuron instead of one per layer.")
    slope: float | None = Field(
        None, gt=0, description="Surrogate steepness (default: the model's with its own surrogate, 25 for the G2G "
        "models' fast sigmoid; else the surrogate's snnTorch default).",
    )
    loss: Literal["count", "membrane", "rate"] | None = Field(
        None, description="Cross-entropy on output spike counts; on time-summed membrane; or at every step on the "
        "output spikes, averaged over T (snnTorch's ce_rate_loss). Default: rate with --use-resnet (the seed), "
        "membrane for conv models, count for MLPs.",
    )
    val_fraction: float | None = Field(
        None, ge=0, lt=1,
        description="Share of the training set held out for validation (default 0 for G2G models, as the seed; 0.1 others).",
    )
    sparsity_mode: Literal["static", "dynamic"] = Field(
        "static", description="static: fixed G2G masks; dynamic: prune and grow during training (DST)."
    )
    cp: Literal["set", "random", "hebb"] = Field("set", description="DST prune rule.")
    cg: Literal["hebb", "random"] = Field("hebb", description="DST grow rule.")
    update_every: int = Field(1000, ge=1, description="DST: optimizer steps between prune-and-grow updates.")
    prune_fraction: float = Field(0.1, gt=0, lt=1, description="DST: share of each layer's connections replaced per update.")
    hebb_window: int = Field(1024, ge=2, description="DST, --dst-corr pearson: samples of recent spike counts correlated.")
    dst_corr: Literal["cosine", "pearson"] = Field(
        "cosine", description="DST Hebbian correlation: cosine of the pre/post spike trains of the update step's batch "
        "(the seed), or Pearson |C| of spike counts over --hebb-window samples.",
    )
    dst_count: Literal["seed", "exact"] = Field(
        "seed", description="DST count: seed (floor(fraction*active), magnitude ties all pruned, regrowth among all "
        "inactive) or exact (round(fraction*active) exactly, the just-pruned not regrown).",
    )
    dst_rewired: Literal["keep", "reset"] = Field(
        "keep", description="DST rewired weights: keep their values and optimizer state (the seed), or reset "
        "(zeroed, Adam moments cleared).",
    )
    enforce_sparsity: bool = Field(False, description="Firing-rate regularisation after the warm-up.")
    warmup_epochs: int = Field(10, ge=0, description="Epochs before firing-rate regularisation starts.")
    rate_penalty: Literal["seed", "mean"] = Field(
        "seed", description="Firing-rate penalty: seed (sum over hidden neurons of (rate - target)^2, weight rising "
        "1e-4 -> 1e-2 and target falling 0.25 -> 0.09 after the warm-up) or mean (--rate-reg x sum of hidden layers' mean rates).",
    )
    rate_reg: float = Field(1e-2, ge=0, description="Weight of the --rate-penalty mean penalty.")
    alpha_reg: float = Field(
        0.0, ge=0, description="Spike-activity penalty: alpha * spikes per sample (all layers, all steps) added to the loss."
    )
    weight_clip: float | None = Field(
        None, gt=0, description="Clamp every weight and bias to [-c, c] after each optimizer step (none if unset)."
    )
    use_resnet: bool = Field(False, description="Feed the SNN frozen ResNet-32 features (CIFAR datasets).")
    resnet_cut: bool = Field(
        False, description="--use-resnet features from the README's ResNet cut after its second stage (512); "
        "default: the seed code's whole network, pooled 4x4 (1024).",
    )
    backbone: Path | None = Field(
        None, description="CIFAR ResNet-32 weights for --use-resnet: a state dict (chenyaofo/pytorch-cifar-models "
        "layout or ours) or an `snn backbone train` checkpoint (default: the one it cached).",
    )
    pretrained: bool = Field(
        False, description="--use-resnet: fetch the seed's pretrained CIFAR ResNet-32 with torch.hub (needs internet).",
    )
    data_root: ExistingDir = Field(None, description="Folder with the dataset files.")
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
        model_defs = model_defaults(self.model)
        defaults = {
            "beta": model_defs.get("beta", 0.9),
            "surrogate": model_defs.get("surrogate", "fast_sigmoid"),
            "loss": "rate" if self.use_resnet else "membrane" if conv else "count",
            # Features are not images: never crop or flip them.
            "augment": "crop-flip" if self.dataset in CIFAR_LIKE() and not self.use_resnet else "none",
            "weight_decay": 0.0,
            "val_fraction": 0.1,
            **training_defaults(self.model),
        }
        if self.slope is None and self.surrogate in (None, model_defs.get("surrogate")):
            defaults["slope"] = model_defs.get("slope")  # the model's slope belongs to its own surrogate
        for key, value in defaults.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)  # bypass validate_assignment (it would recurse)
        if self.use_resnet and "enc" not in self.model_fields_set:
            object.__setattr__(self, "enc", "rate")  # the seed rate-codes the min-max scaled features
        if self.use_resnet and self.augment == "crop-flip":
            raise ValueError("augment: --use-resnet feeds the SNN cached ResNet features, which cannot be cropped or flipped")
        learned = [k for k in ("learn_beta", "learn_threshold") if getattr(self, k)]
        if learned and learned[0] not in model_defs:
            raise ValueError(f"{learned[0]}: {self.model} has no learnable LIF parameters (the spiking MLPs do)")
        if self.match_params and "match_params" not in model_defs:
            raise ValueError(f"match_params: only the dense baseline is sized to match a G2G network, not {self.model}")
        if self.model not in G2G_FAMILY and self.hidden_layers is not None:
            raise ValueError(f"hidden_layers: only the G2G models ({', '.join(G2G_FAMILY)}) take it")
        if self.use_resnet and self.dataset not in CIFAR_LIKE():
            raise ValueError(f"use_resnet: the ResNet-32 features need a CIFAR dataset ({', '.join(CIFAR_LIKE())})")
        if self.backbone is not None and not self.backbone.is_file():
            raise ValueError(f"backbone: no such file: {self.backbone}")
        if self.pretrained and self.backbone is not None:
            raise ValueError("pretrained: give either --pretrained (torch.hub) or --backbone FILE, not both")
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
        then ``_T{T}`` for an SNN, ``_{mask}_r{a}-{b}`` with Flex, ``_w{width}`` below full width.
        """
        if is_conv_model(self.model):
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
            parts += [self.masking_mechanism.lower(), f"r{a:g}-{b:g}"]
        if self.width != 1.0:
            parts.append(f"w{self.width:g}")
        return "_".join(parts)
