"""Validated field types, the ``--help`` panels, and the network-shape settings shared by every command
that builds a model.

Registry-backed names (models, datasets, encodings, surrogates, rules, attacks, DST rules) are checked
against their registry when a config is validated; the registries are imported then, not when this
module is, so that building the CLI needs no torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

from pydantic import AfterValidator, model_validator

from .base import StrictModel
from .defaults import resolve_defaults
from .setting import setting

if TYPE_CHECKING:
    from ..registry import Registry

# The panels of `--help`.
DATA, MODEL, NEURON, TRAIN, RUN = "Data and encoding", "Model", "Neurons", "Training", "Run"
DST = "Dynamic sparse training (--sparsity dynamic, or snn dst)"
CONV = "Conv networks (vgg6/11/16, simple_conv; PlasticFlex)"
PANELS = (DATA, MODEL, NEURON, TRAIN, DST, CONV)  # in this order; a command's own panels follow, then "Run"


def registry(kind: str) -> Registry:
    """The registry of ``kind``, imported when a value is validated (torch), never when a config module is."""
    if kind in ("model", "dataset", "encoding", "surrogate"):
        from .. import data, models, neurons

        return {"model": models.MODELS, "dataset": data.DATASETS, "encoding": data.ENCODERS,
                "surrogate": neurons.SURROGATES}[kind]
    if kind == "plasticity rule":
        from ..plasticity import RULES

        return RULES
    if kind == "attack":
        from ..attacks import ATTACKS

        return ATTACKS
    from ..sparsity import GROW_RULES, PRUNE_RULES

    return {"prune rule": PRUNE_RULES, "grow rule": GROW_RULES}[kind]


@dataclass(frozen=True)
class Choices:
    """``Annotated`` marker: the value is a name in the registry of ``kind``; ``--help`` lists the names when shown."""

    kind: str

    def names(self) -> list[str]:
        """The names, without importing torch (:mod:`snncli.config.catalog`)."""
        from .catalog import names

        return names(self.kind)

    def check(self, value: str) -> str:
        known = registry(self.kind)
        if value not in known:
            raise ValueError(known.unknown(value))  # names the value, a close name (did you mean), the choices
        return value


def name_in(kind: str):
    """``str`` validated against the registry of ``kind`` at parse time and listed in ``--help`` when shown."""
    choices = Choices(kind)
    return Annotated[str, AfterValidator(choices.check), choices]


ModelName = name_in("model")
DatasetName = name_in("dataset")
EncodingName = name_in("encoding")
SurrogateName = name_in("surrogate")
RuleName = name_in("plasticity rule")
PruneRuleName = name_in("prune rule")
GrowRuleName = name_in("grow rule")


def cifar_like() -> list[str]:
    """Datasets of 32x32 colour images, the ones a CIFAR ResNet-32 backbone accepts."""
    return registry("dataset").names(family="cifar")


def _existing_dir(v: Path | None) -> Path | None:
    if v is not None and not v.is_dir():
        raise ValueError(f"folder does not exist: {v}")
    return v


#: An optional folder that must exist when given (``--data-root``).
ExistingDir = Annotated[Optional[Path], AfterValidator(_existing_dir)]

#: Seeds: what Python, NumPy (< 2**32) and torch all accept.
SEED_MAX = 2**32 - 1


def usable_dir(v: Path | None) -> Path | None:
    """``v`` if snn can create files in it: an existing writable folder, or a path whose nearest existing
    ancestor is a writable folder (checked when the config is validated, so nothing runs first)."""
    if v is None:
        return v
    problem = unusable_dir(Path(v))
    if problem:
        raise ValueError(problem)
    return v


def unusable_dir(path: Path) -> str | None:
    """Why files cannot be created in ``path`` (``None``: they can)."""
    p = path
    while not p.exists():
        if p.is_symlink():
            return f"{p} is a dangling link"
        if p.parent == p:
            break
        p = p.parent
    if p.exists() and not p.is_dir():
        return f"{p} is a file, not a folder" if p == path else f"{p} is a file, so {path} cannot be a folder"
    if p.exists() and not os.access(p, os.W_OK | os.X_OK):
        return f"{p} is not writable" if p == path else f"{p} is not writable, so {path} cannot be created"
    return None


#: A folder snn writes into (``--out``): existing and writable, or creatable.
WritableDir = Annotated[Path, AfterValidator(usable_dir)]
OptionalWritableDir = Annotated[Optional[Path], AfterValidator(usable_dir)]
def _device_name(v):
    """``auto|cpu|cuda|cuda:N|mps|directml``: the device names torch and snn understand."""
    if isinstance(v, str) and (v in ("auto", "cpu", "cuda", "mps", "directml")
                               or (v.startswith("cuda:") and v[5:].isdigit() and len(v) <= 9)):
        return v
    raise ValueError(f"expected auto, cpu, cuda, cuda:N (a GPU index), mps or directml, got {v!r}")


Device = Annotated[str, AfterValidator(_device_name)]
Precision = Literal["auto", "fp32", "fp32-events", "bf16"]


class Resolved(StrictModel):
    """A config whose unset settings (``resolve=True`` fields) take the registered defaults of its model
    and dataset (:func:`snncli.config.defaults.resolve_defaults`), before any field is validated."""

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data):
        return resolve_defaults(cls, data)


class NetworkSettings(Resolved):
    """Which network, at what size, fed how: the part of a config that decides the model's shape."""

    model: ModelName = setting("dense", "Model name.", panel=MODEL, seed="network")
    hidden_dim: int | None = setting(None, "Hidden layer width (model default if unset).", panel=MODEL, ge=1, le=65_536,
                                     resolve=True)
    p_inter: float = setting(0.15, "Inter-group connection probability (G2G models).", panel=MODEL, ge=0, le=1)
    hidden_layers: int | None = setting(
        None, "Hidden layers of dense/G2G models (model default: 3, as the seed's code and logs; its README draws 2).",
        panel=MODEL, ge=1, le=64, resolve=True,
    )
    readout: Literal["dense", "masked"] | None = setting(
        None, "G2G readout layer: dense (the seed's code) or G2G-masked (its README).", panel=MODEL, resolve=True,
    )
    groups: int = setting(8, "Groups per layer (G2G models).", panel=MODEL, ge=1, le=4096)
    p_intra: float = setting(1.0, "Intra-group connection probability (G2G models).", panel=MODEL, ge=0, le=1)
    init: Literal["seed", "torch", "kaiming"] | None = setting(
        None, "Weight initialisation. G2G models: seed (active weights rescaled by fan-in, bias bound from it; their "
        "default) or torch (nn.Linear's as if dense, masked weights zeroed); conv models: torch (their default) or "
        "kaiming (the PlasticFlex seed's kaiming_normal_ on every convolution, zero bias).", panel=MODEL, resolve=True,
    )
    match_params: bool = setting(
        False, "dense: the seed's equal-parameter baseline, as wide as gives the parameter count of a G2G network "
        "of --hidden-dim at --p-inter/--groups (447 for 1024 at 0.15).", panel=MODEL,
    )
    T: int | None = setting(None, "Time steps (model default if unset: 50 dense/G2G, 25 mlp).", panel=DATA, short="-T",
                            ge=1, le=10_000, resolve=True, fallback=25)
    enc: EncodingName = setting("current", "Input spike encoding.", panel=DATA)
