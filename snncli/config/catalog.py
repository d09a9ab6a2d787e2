"""The names in every registry, written out so that ``--help`` and shell completion list them without
importing torch (which costs ~1.5 s of every ``snn train --help`` and every TAB).

The registries (:mod:`snncli.models`, :mod:`snncli.data`, ...) stay the authority: values are checked
against them when a config is validated, and where a registry's module is already imported (a run, a
test, a notebook that registered its own model) its live names are listed instead of these.
``tests/config/test_catalog.py`` fails when this list and the registries disagree: a new model, dataset,
attack... is registered in its module and named here.
"""

from __future__ import annotations

import sys

#: kind -> (the registry's module, its names in sorted order).
CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "model": ("snncli.models", (
        "dense", "index", "mixer", "mlp", "random", "simple_conv", "simple_flex", "vgg11", "vgg16", "vgg6")),
    "dataset": ("snncli.data", (
        "cifar10", "cifar10-down-50", "cifar10-random-small-100", "cifar10-random-small-500",
        "cifar10-random-small-gaussian-noise-0.5", "cifar100", "fashionmnist", "imagenet100", "imagenet1k",
        "mnist", "synthetic", "synthetic-cifar")),
    "encoding": ("snncli.data", ("current", "rate")),
    "surrogate": ("snncli.neurons", ("atan", "fast_sigmoid", "sigmoid")),
    "plasticity rule": ("snncli.plasticity", ("anti-hebb", "hebb", "hebb-anti-hebb", "oja", "stdp")),
    "attack": ("snncli.attacks", (
        "apgd", "autoattack", "cw", "fgsm", "gaussian", "jitter", "jsma", "noise", "onepixel", "pgd", "spgd",
        "spsa", "square")),
    "prune rule": ("snncli.sparsity", ("hebb", "random", "set")),
    "grow rule": ("snncli.sparsity", ("hebb", "random")),
}


def names(kind: str) -> list[str]:
    """The names of the registry of ``kind``: the live registry's when its module is already imported,
    else the catalog's (no import)."""
    module, written = CATALOG[kind]
    if module in sys.modules:
        from .fields import registry

        return registry(kind).names()
    return list(written)
