"""Settings of the conv family (PlasticFlex): ANN or SNN, STBP, Flex layers, and the CIFAR training recipe.

A mixin of :class:`~snncli.config.TrainConfig`: the field names are the registered conv models'
parameter names (``spiking``, ``use_flex``, ``masking_mechanism``...), so the trainer hands them
to ``create_model`` as they are, and the seed's JSON keys need no renaming.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator, model_validator

from .base import StrictModel
from .fields import CONV, TRAIN, registry
from .setting import setting

#: The grid launcher's and the seed launcher's short names for the masking mechanisms.
MASKING_ALIASES = {"hard": "SIGMOID_HARD", "soft": "SIGMOID_SOFT", "ste": "STE", "none": "NONE"}

#: Flex routing names the help lists (the registries in snncli/models/routing.py, checked at validation).
MASK_NAMES = ("SIGMOID_HARD, SIGMOID_SOFT, SIGMOID_MUL, STE, STE_FPBP, STE_FPBS, STE_FSBP, STE_FSBS, "
              "StochasticRoundFPBP, StochasticRoundFPBS, StochasticRoundFSBP, StochasticRoundFSBS, "
              "StochasticRoundFCBP, StochasticRoundFCBS, NONE")


def _routing(kind: str, value: Any) -> Any:
    """A Flex routing name spelled as registered (any case; the seed's aliases), checked against its registry."""
    if not isinstance(value, str):
        return value
    from ..models import routing  # torch: at validation, not when the CLI is built

    if kind == "mask":
        return routing.resolve_name(MASKING_ALIASES.get(value.lower(), value), routing.list_masks(), "masking mechanism")
    if kind == "logits":
        return routing.logits_name(value)
    return routing.resolve_name(value, routing.list_joints(), "joint mechanism")


def conv_models() -> list[str]:
    return registry("model").names(family="conv")


class ConvNetSettings(StrictModel):
    """Network mode, Flex layers, and the CIFAR-style training recipe (conv models)."""

    spiking: bool | None = setting(
        None, "LIF neurons over T steps (true) or a ReLU ANN (false); conv models (default false). MLPs always spike.",
        panel=CONV, resolve=True,
    )
    use_stbp: bool | None = setting(
        None, "Spatio-temporal backpropagation (true) or gradients through space only (false); needs spiking "
        "(default: true when spiking).", panel=CONV, seed="use_STBP", follows="spiking",
    )
    use_flex: bool | None = setting(
        None, "Convolutions are Flex layers (conv or max-pool per unit); conv models (default false; simple_flex true).",
        panel=CONV, negative="--no-flex", resolve=True, fallback=False,
    )
    flex_layers: Literal["all", "downsample"] = setting(
        "all", "Which convolutions are Flex layers with --use-flex: all (the seed) or only the 2x2 stride-2 downsamplings.",
        panel=CONV,
    )
    masking_mechanism: str = setting(
        "SIGMOID_HARD", f"Flex mask: {MASK_NAMES} (NONE: plain conv; hard/soft/ste/none accepted).",
        panel=CONV, aliases="--mask", seed="mask_type",
    )
    logits_mechanism: str = setting(
        "THRESHOLD", "Flex logits: THRESHOLD (pooled input minus a threshold per unit) or SPATIAL_ATTENTION (a conv stack; "
        "the seed's SpatialAttentionBlock).", panel=CONV,
    )
    logits_use_batchnorm: bool = setting(True, "Batch-normalise the Flex logits.", panel=CONV,
                                         negative="--no-logits-batchnorm")
    joint_mechanism: str = setting(
        "NONE", "Flex joint replacing logits and mask: NONE or CHANNELWISE_MAXPOOL (max(conv, pool) per unit).", panel=CONV,
    )
    flex_threshold: Literal["learned", "redrawn"] = setting(
        "learned", "THRESHOLD logits: a trained threshold, or the seed code's random one redrawn at every forward pass "
        "(never trained).", panel=CONV,
    )
    sigmoid_mul_factor: float = setting(50.0, "k of the SIGMOID_MUL mask sigmoid(k * logits).", panel=CONV, gt=0)
    attention_blocks: int = setting(1, "Conv blocks of the SPATIAL_ATTENTION logits.", panel=CONV, ge=0,
                                   seed="num_spatial_attention_block")
    neuron: Literal["lif", "heaviside"] = setting(
        "lif", "Spiking activation of conv models: LIF over T steps, or the seed code's stateless step (heaviside; "
        "--use-stbp picks its 0.3 tanh surrogate (true) or clamp(x, 0, 1) (false)).", panel=CONV,
    )
    freeze_first_fc: bool = setting(
        False, "Keep the first classifier layer at its initial weights (the seed creates it after its optimiser, so "
        "never trains it).", panel=CONV, negative="--train-first-fc",
    )
    conv_pool_ratio: tuple[float, float] = setting(
        (1.0, 1.0), "Initial conv:pool routing of Flex units, as a:b (e.g. 2:1).", panel=CONV, metavar="A:B",
        default_text="1:1",
    )
    dropout: float | None = setting(
        None, "Classifier dropout (model default if unset: 0.5 vgg11/16, 0.2 vgg6).", panel=CONV, ge=0, lt=1, resolve=True,
    )
    width: float | None = setting(None, "Channel multiplier of conv models (1 = the seed's widths).", panel=CONV,
                                  gt=0, le=16, resolve=True)
    in_shape: tuple[int, int, int] | None = setting(
        None, "Input (C, H, W) the network expects; 1-channel images are repeated to 3 channels (the seed's "
        "in_dimensions).", panel=CONV, metavar="C,H,W", seed="in_dimensions",
    )
    num_classes: int | None = setting(
        None, "Classes the dataset must have (the seed's num_classes; checked, not imposed).", panel=CONV, ge=2, le=1_000_000,
        identity=False,
    )
    augment: Literal["none", "crop-flip"] | None = setting(
        None, "Training augmentation on the device: random 4-pixel-padded crop + horizontal flip (default for "
        "CIFAR-shaped data) or none.", panel=TRAIN, resolve=True, fallback="none",
    )
    lr_schedule: Literal["none", "cosine", "step"] = setting(
        "none", "Learning-rate schedule over the epochs (cosine to 0, or x lr_gamma every lr_step epochs).", panel=TRAIN,
    )
    lr_step: int = setting(30, "Epochs between decays of the step schedule.", panel=TRAIN, ge=1, le=100_000)
    lr_gamma: float = setting(0.1, "Decay factor of the step schedule.", panel=TRAIN, gt=0, le=1)
    amp: bool = setting(True, "Mixed precision (bf16 autocast) on CUDA; ignored on other devices.", panel=TRAIN)
    bn_recalibrate: int = setting(
        0, "After every epoch, re-estimate BatchNorm running statistics on this many training batches (precise BN: "
        "short runs otherwise evaluate with stale statistics); 0: off.", panel=TRAIN, ge=0,
    )
    channel_norm: bool = setting(
        False, "Normalise inputs per channel inside the model with the PlasticFlex seed's constants (CIFAR-10, MNIST, "
        "ImageNet; measured for other datasets).", panel=CONV, negative="--no-channel-norm",
    )
    input_noise: float = setting(
        0.0, "Gaussian noise std added to every training image at every step, in normalised units with --channel-norm "
        "(the seed: 0.1 on CIFAR-10).", panel=CONV, ge=0,
    )
    input_noise_eval: bool = setting(False, "Also add --input-noise to validation and test images (as the seed's loaders did; "
                                     "nothing without --input-noise).",
                                     panel=CONV)

    @field_validator("masking_mechanism", mode="before")
    @classmethod
    def _masking_name(cls, v: Any) -> Any:
        return _routing("mask", v)

    @field_validator("logits_mechanism", mode="before")
    @classmethod
    def _logits_name(cls, v: Any) -> Any:
        return _routing("logits", v)

    @field_validator("joint_mechanism", mode="before")
    @classmethod
    def _joint_name(cls, v: Any) -> Any:
        return _routing("joint", v)

    @field_validator("conv_pool_ratio", mode="before")
    @classmethod
    def _ratio(cls, v: Any) -> Any:
        if isinstance(v, str):  # "2:1" (flags and grids)
            parts = v.replace(",", ":").split(":")
            if len(parts) != 2:
                raise ValueError("give two numbers as a:b, e.g. 2:1")
            return tuple(parts)
        return v

    @field_validator("in_shape", mode="before")
    @classmethod
    def _shape(cls, v: Any) -> Any:
        if isinstance(v, str):  # "3,28,28" or "3x28x28" (flags and grids)
            return tuple(v.replace("x", ",").split(","))
        return v

    @field_validator("conv_pool_ratio")
    @classmethod
    def _ratio_values(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] < 0 or v[1] < 0 or v[0] + v[1] <= 0 or max(v) > 1e6:
            raise ValueError("two non-negative numbers up to 1e6, not both 0")
        return v

    @field_validator("in_shape")
    @classmethod
    def _shape_values(cls, v: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if v is not None and not all(1 <= d <= 4096 for d in v):
            raise ValueError(f"channels, height and width must each be 1 to 4096, got {','.join(map(str, v))}")
        return v

    @model_validator(mode="after")
    def _conv_consistent(self):
        model = self.model  # a field of the config this mixes into
        if model not in conv_models():
            if self.neuron != "lif":
                raise ValueError(f"neuron: the MLPs are LIF networks; --neuron {self.neuron} needs a conv model")
            if self.channel_norm:
                raise ValueError(f"channel_norm: per-channel input normalisation is a conv model's ({', '.join(conv_models())}); "
                                 "MLPs scale inputs with --enc-scale/--enc-bias")
            if self.spiking is False:
                raise ValueError(f"spiking: {model} is a spiking MLP; ANN mode needs a conv model ({', '.join(conv_models())})")
            if self.use_flex:
                raise ValueError(f"use_flex: Flex layers need a conv model ({', '.join(conv_models())}); {model} has none")
            if self.use_stbp is False:
                raise ValueError("use_stbp: the MLPs always train with BPTT; gradients through space only need a conv model")
            return self
        if getattr(self, "engine", "snn") == "snntorch":
            raise ValueError("engine: the snnTorch reference engine runs the MLPs only")
        if self.use_stbp and not self.spiking:
            raise ValueError("use_stbp: STBP needs a spiking network (--spiking true)")
        if getattr(self, "enforce_sparsity", False) and not self.spiking:
            raise ValueError("enforce_sparsity: an ANN has no firing rates to regularise")
        if self.neuron == "heaviside":
            if not self.spiking:
                raise ValueError("neuron: the heaviside activation is the seed's spiking one; add --spiking true")
            if getattr(self, "enforce_sparsity", False) or getattr(self, "alpha_reg", 0) > 0:
                raise ValueError("neuron: the stateless heaviside network reports no firing rates to regularise")
        return self
