"""PlasticFlex's JSON run configs, read as they are.

The seed's keys mostly are our field names already (``use_flex``, ``masking_mechanism``,
``conv_pool_ratio``, ``spiking``, ``use_stbp``, ``dropout``, ``epochs``, ``batch_size``...);
this module renames the rest and spells the values our way, and carries over the seed's
fixed choices that its files do not state (SGD: momentum 0.9, weight decay 1e-5, cosine
schedule over the run's epochs) and its data conventions (:func:`seed_conventions`).
"""

from __future__ import annotations

import re
from typing import Any

from .base import ConfigFileError
from .fields import registry
from .setting import seed_keys
from .train import TrainConfig

#: seed key -> our field, as the fields declare them (``setting(..., seed="learning_rate")``)
RENAMED = seed_keys(TrainConfig)
NETWORKS = {
    "vgg6": "vgg6", "vgg11": "vgg11", "vgg16": "vgg16",
    "simpleconvnet": "simple_conv", "simple_conv": "simple_conv", "simpleconv": "simple_conv",
}


def is_seed_format(values: dict[str, Any]) -> bool:
    """A mapping written for the PlasticFlex seed (it uses keys no snn config has)."""
    return any(k in values for k in RENAMED)


def dataset_name(name: str) -> str:
    """``"CIFAR-10-Down-50"`` -> ``"cifar10-down-50"``, ``"MNIST"`` -> ``"mnist"``, ``"Fashion-MNIST"`` -> ``"fashionmnist"``.

    Unknown names are returned as given, for the config's validation to refuse with the list.
    """
    low = str(name).lower()
    candidates = [low, re.sub(r"^cifar-(10|100)", r"cifar\1", low), low.replace("-", "").replace("_", "")]
    for c in candidates:
        if c in registry("dataset"):
            return c
    return name


def from_seed_format(values: dict[str, Any]) -> dict[str, Any]:
    """Translate a PlasticFlex config mapping into ``snn train`` settings; other mappings pass unchanged.

    Raises:
        ConfigFileError: a setting given twice (under the seed's name and ours).
    """
    if not is_seed_format(values):
        return dict(values)
    out: dict[str, Any] = {}
    for key, value in values.items():
        field = RENAMED.get(key, key)
        if field in out:
            raise ConfigFileError(f"--config: {field} given twice (as {key} and {field})")
        out[field] = value
    if isinstance(out.get("model"), str):
        out["model"] = NETWORKS.get(out["model"].lower().replace("-", ""), out["model"])
    if isinstance(out.get("dataset"), str):
        out["dataset"] = dataset_name(out["dataset"])
    if isinstance(out.get("optimizer"), str):
        out["optimizer"] = out["optimizer"].lower()
    if out.get("optimizer", "sgd") == "sgd":  # the seed's SGD: fixed momentum, decay and cosine schedule
        out.setdefault("optimizer", "sgd")
        out.setdefault("momentum", 0.9)
        out.setdefault("weight_decay", 1e-5)
        out.setdefault("lr_schedule", "cosine")
    else:
        out.setdefault("weight_decay", 1e-5)
    if not out.get("spiking", False):
        # The seed ignores use_stbp in ANN mode (its example config sets it with spiking false).
        out.pop("use_stbp", None)
    for key, value in seed_conventions(str(out.get("dataset", ""))).items():
        out.setdefault(key, value)
    return out


def seed_conventions(dataset: str) -> dict[str, Any]:
    """What the seed's code did to the data and weights that its config files do not say.

    Inputs normalised with its constants; no crop or flip; Gaussian noise (in normalised units) on
    every CIFAR-10 image, training and test alike, drawn anew at every access: std 0.1, 0.5 for its
    noisy subset; subsets drawn as its code draws them; kaiming-normal convolutions.
    """
    noise = 0.0
    if dataset.startswith("cifar10") and not dataset.startswith("cifar100"):
        noise = 0.5 if "gaussian-noise" in dataset else 0.1
    out: dict[str, Any] = {"channel_norm": True, "augment": "none", "init": "kaiming", "subset_sampling": "seed"}
    if noise:
        out.update(input_noise=noise, input_noise_eval=True)
    return out
