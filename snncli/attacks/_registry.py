"""The attack registry: ``register_attack`` / ``create_attack`` / ``list_attacks``."""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from ..registry import Registry
from .base import Attack

#: Every attack class by name.
ATTACKS: Registry[type[Attack]] = Registry("attack")


def register_attack(name: str):
    """Class decorator: register an :class:`Attack` subclass under ``name``."""

    def deco(cls: type[Attack]) -> type[Attack]:
        ATTACKS.add(name, cls)
        cls.name = name
        return cls

    return deco


def list_attacks() -> list[str]:
    """Names of all registered attacks, sorted."""
    return ATTACKS.names()


def attack_class(name: str) -> type[Attack]:
    """The class registered as ``name``; ``UnknownNameError`` (a ``ValueError``) listing the choices otherwise."""
    return ATTACKS[name]


def create_attack(name: str, model: nn.Module, eps: float, **kwargs: Any) -> Attack:
    """Build the attack ``name`` against ``model`` (images -> logits) with budget ``eps``."""
    return attack_class(name)(model, eps, **kwargs)
