"""Settings of the conv family (PlasticFlex): ANN or SNN, STBP, Flex layers, and the CIFAR training recipe.

A mixin of :class:`~snncli.config.TrainConfig`: the field names are the registered conv models'
parameter names (``spiking``, ``use_flex``, ``masking_mechanism``...), so the trainer hands them
to ``create_model`` as they are, and the seed's JSON keys need no renaming.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..models import is_conv_model, list_joints, list_logits, list_masks, list_models, model_defaults
from ..models.routing import logits_name, resolve_name
from .base import StrictModel

#: The grid launcher's and the seed launcher's short names for the masking mechanisms.
MASKING_ALIASES = {"hard": "SIGMOID_HARD", "soft": "SIGMOID_SOFT", "ste": "STE", "none": "NONE"}


def conv_models() -> list[str]:
    return [m for m in list_models() if is_conv_model(m)]


class ConvNetSettings(StrictModel):
    """Network mode, Flex layers, and the CIFAR-style training recipe (conv models)."""

    spiking: bool | None = Field(
        None,
        description="LIF neurons over T steps (true) or a ReLU ANN (false); conv models (default false). MLPs always spike.",
    )
    use_stbp: bool | None = Field(
        None,
        description="Spatio-temporal backpropagation (true) or gradients through space only (false); needs spiking (default: true when spiking).",
    )
    use_flex: bool | None = Field(
        None,
        description="Convolutions are Flex layers (conv or max-pool per unit); conv models (default: false, simple_flex true).",
    )
    flex_layers: Literal["all", "downsample"] = Field(
        "all",
        description="Which convolutions are Flex layers with use_flex: all (the seed) or only the 2x2 stride-2 downsampling ones.",
    )
    masking_mechanism: str = Field(
        "SIGMOID_HARD",
        description="Flex mask: " + ", ".join(list_masks()) + " (NONE: plain conv).",
    )
    logits_mechanism: str = Field(
        "THRESHOLD",
        description="Flex logits: " + ", ".join(list_logits()) + ".",
    )
    logits_use_batchnorm: bool = Field(True, description="Batch-normalise the Flex logits.")
    joint_mechanism: str = Field(
        "NONE",
        description="Flex joint replacing logits and mask: " + ", ".join(list_joints()) + " (CHANNELWISE_MAXPOOL: max(conv, pool) per unit).",
    )
    flex_threshold: Literal["learned", "redrawn"] = Field(
        "learned",
        description="THRESHOLD logits: a trained threshold, or the seed code's random one redrawn at every forward pass (never trained).",
    )
    sigmoid_mul_factor: float = Field(50.0, gt=0, description="k of the SIGMOID_MUL mask sigmoid(k * logits).")
    num_spatial_attention_block: int = Field(1, ge=0, description="Conv blocks of the SPATIAL_ATTENTION logits.")
    neuron: Literal["lif", "heaviside"] = Field(
        "lif",
        description="Spiking activation: LIF over T steps, or the seed code's stateless step (heaviside; use_stbp picks "
        "its 0.3 tanh surrogate (true) or clamp(x, 0, 1) (false)).",
    )
    init: Literal["torch", "kaiming"] = Field(
        "torch", description="Weight initialisation: torch's default, or the seed's kaiming_normal_ on every convolution (zero bias).",
    )
    normalize: bool = Field(
        False,
        description="Normalise inputs per channel inside the model with the seed's constants (CIFAR-10, MNIST, ImageNet; measured for others).",
    )
    input_noise: float = Field(
        0.0, ge=0,
        description="Gaussian noise std added to every training image at every step, in normalised units with --normalize (the seed: 0.1 on CIFAR).",
    )
    input_noise_eval: bool = Field(False, description="Also add --input-noise to validation and test images (as the seed's loaders did).")
    freeze_first_fc: bool = Field(
        False,
        description="Keep the first classifier layer at its initial weights (the seed creates it after its optimiser, so never trains it).",
    )
    conv_pool_ratio: tuple[float, float] = Field(
        (1.0, 1.0),
        description="Initial conv:pool routing of Flex units, as a:b (e.g. 2:1).",
    )
    dropout: float | None = Field(
        None, ge=0, lt=1,
        description="Classifier dropout (model default if unset: 0.5 vgg11/16, 0.2 vgg6).",
    )
    width: float | None = Field(None, gt=0, description="Channel multiplier of conv models (1 = the seed's widths).")
    in_shape: tuple[int, int, int] | None = Field(
        None,
        description="Input (C, H, W) the network expects; 1-channel images are repeated to 3 channels (the seed's in_dimensions).",
    )
    num_classes: int | None = Field(
        None, ge=2,
        description="Classes the dataset must have (the seed's num_classes; checked, not imposed).",
    )
    augment: Literal["none", "crop-flip"] | None = Field(
        None,
        description="Training augmentation on the device: random 4-pixel-padded crop + horizontal flip (default for CIFAR-shaped data) or none.",
    )
    lr_schedule: Literal["none", "cosine", "step"] = Field(
        "none",
        description="Learning-rate schedule over the epochs (cosine to 0, or x lr_gamma every lr_step epochs).",
    )
    lr_step: int = Field(30, ge=1, description="Epochs between decays of the step schedule.")
    lr_gamma: float = Field(0.1, gt=0, le=1, description="Decay factor of the step schedule.")
    amp: bool = Field(True, description="Mixed precision (bf16 autocast) on CUDA; ignored on other devices.")
    bn_recalibrate: int = Field(
        0, ge=0,
        description="After every epoch, re-estimate BatchNorm running statistics on this many training batches "
        "(precise BN: short runs otherwise evaluate with stale statistics); 0: off.",
    )

    @field_validator("masking_mechanism", mode="before")
    @classmethod
    def _masking_alias(cls, v: Any) -> Any:
        if isinstance(v, str):
            return resolve_name(MASKING_ALIASES.get(v.lower(), v), list_masks(), "masking mechanism")
        return v

    @field_validator("logits_mechanism", mode="before")
    @classmethod
    def _logits_name(cls, v: Any) -> Any:
        return logits_name(v) if isinstance(v, str) else v

    @field_validator("joint_mechanism", mode="before")
    @classmethod
    def _joint_name(cls, v: Any) -> Any:
        return resolve_name(v, list_joints(), "joint mechanism") if isinstance(v, str) else v

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
        if v[0] < 0 or v[1] < 0 or v[0] + v[1] <= 0:
            raise ValueError("two non-negative numbers, not both 0")
        return v

    @model_validator(mode="after")
    def _conv_consistent(self):
        model = self.model  # a field of the config this mixes into
        conv = is_conv_model(model)
        defaults = model_defaults(model)
        if not conv:
            if self.neuron != "lif":
                raise ValueError(f"neuron: the MLPs are LIF networks; --neuron {self.neuron} needs a conv model")
            if self.spiking is False:
                raise ValueError(f"spiking: {model} is a spiking MLP; ANN mode needs a conv model ({', '.join(conv_models())})")
            if self.use_flex:
                raise ValueError(f"use_flex: Flex layers need a conv model ({', '.join(conv_models())}); {model} has none")
            if self.use_stbp is False:
                raise ValueError("use_stbp: the MLPs always train with BPTT; gradients through space only need a conv model")
            return self
        if getattr(self, "engine", "snn") == "snntorch":
            raise ValueError("engine: the snnTorch reference engine runs the MLPs only")
        fill = {}
        if self.use_flex is None:
            fill["use_flex"] = defaults.get("use_flex", False)
        if self.spiking is None:
            fill["spiking"] = defaults.get("spiking", False)
        spiking = fill.get("spiking", self.spiking)
        if self.use_stbp is None:
            fill["use_stbp"] = spiking
        elif self.use_stbp and not spiking:
            raise ValueError("use_stbp: STBP needs a spiking network (--spiking true)")
        for key in ("dropout", "width"):
            if getattr(self, key) is None:
                fill[key] = defaults.get(key)
        if getattr(self, "enforce_sparsity", False) and not spiking:
            raise ValueError("enforce_sparsity: an ANN has no firing rates to regularise")
        if self.neuron == "heaviside":
            if not spiking:
                raise ValueError("neuron: the heaviside activation is the seed's spiking one; add --spiking true")
            if getattr(self, "enforce_sparsity", False) or getattr(self, "alpha_reg", 0) > 0:
                raise ValueError("neuron: the stateless heaviside network reports no firing rates to regularise")
        if self.input_noise_eval and self.input_noise == 0:
            raise ValueError("input_noise_eval: give the noise with --input-noise STD")
        for k, v in fill.items():  # bypass validate_assignment, which would re-enter this validator
            object.__setattr__(self, k, v)
        return self
