"""Validated field types and the network-shape settings shared by every command that builds a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable, Iterable, Literal, Optional

from pydantic import AfterValidator, Field, model_validator

from ..data import ENCODINGS, list_datasets
from ..models import list_models, model_defaults
from ..neurons import SURROGATES
from .base import StrictModel


def one_of(kind: str, choices: Callable[[], Iterable[str]]) -> AfterValidator:
    """A validator accepting only names in ``choices()`` (a registry), listing them when it refuses."""

    def check(value: str) -> str:
        allowed = list(choices())
        if value not in allowed:
            raise ValueError(f"unknown {kind}; choose from {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def CIFAR_LIKE() -> list[str]:  # noqa: N802 - reads like the constant it stands for
    """Datasets of 32x32 colour images, the ones a CIFAR ResNet-32 backbone accepts."""
    return [d for d in list_datasets() if d.startswith("cifar") or d == "synthetic-cifar"]


def _existing_dir(v):
    if v is not None and not v.is_dir():
        raise ValueError(f"folder does not exist: {v}")
    return v


#: An optional folder that must exist when given (``--data-root``).
ExistingDir = Annotated[Optional[Path], AfterValidator(_existing_dir)]
Device = Literal["auto", "cpu", "cuda", "mps", "directml"]
Precision = Literal["auto", "fp32", "bf16"]
ModelName = Annotated[str, one_of("model", list_models)]
DatasetName = Annotated[str, one_of("dataset", list_datasets)]
EncodingName = Annotated[str, one_of("encoding", lambda: ENCODINGS)]
SurrogateName = Annotated[str, one_of("surrogate", lambda: SURROGATES)]


class NetworkSettings(StrictModel):
    """Which network, at what size, fed how: the part of a config that decides the model's shape."""

    model: ModelName = Field("dense", description="Model name.")
    hidden_dim: int | None = Field(None, ge=1, description="Hidden layer width (model default if unset).")
    p_inter: float = Field(0.15, ge=0, le=1, description="Inter-group connection probability (G2G models).")
    hidden_layers: int | None = Field(
        None, ge=1, description="Hidden layers (G2G models; default 3 as the seed's code and logs, 2 as its README)."
    )
    readout: Literal["dense", "masked"] | None = Field(
        None, description="G2G readout layer: dense (the seed's code, default) or G2G-masked (its README)."
    )
    match_params: bool = Field(
        False, description="dense: the seed's equal-parameter baseline, as wide as gives the parameter count of a "
        "G2G network of --hidden-dim at --p-inter/--groups (447 for 1024 at 0.15).",
    )
    groups: int = Field(8, ge=1, description="Groups per layer (G2G models).")
    p_intra: float = Field(1.0, ge=0, le=1, description="Intra-group connection probability (G2G models).")
    init: Literal["seed", "torch"] | None = Field(
        None, description="G2G weight init: seed (active weights rescaled by fan-in, bias bound from it; default) "
        "or torch (nn.Linear's, as if dense, masked weights zeroed).",
    )
    T: int | None = Field(None, ge=1, description="Time steps (model default if unset: 50 dense/G2G, 25 mlp).")
    enc: EncodingName = Field("current", description="Input spike encoding.")

    @model_validator(mode="after")
    def _fill_model_defaults(self):
        defaults = model_defaults(self.model)
        # Bypass validate_assignment: re-running validators from inside one would recurse.
        if self.T is None:
            object.__setattr__(self, "T", defaults.get("T", 25))
        for key in ("hidden_dim", "hidden_layers", "readout", "init"):
            if getattr(self, key) is None:
                object.__setattr__(self, key, defaults.get(key))
        return self

