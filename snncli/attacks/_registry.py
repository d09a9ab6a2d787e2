"""The attack registry: ``register_attack`` / ``create_attack`` / ``list_attacks``."""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from .base import Attack

_ATTACKS: dict[str, type[Attack]] = {}


def register_attack(name: str):
    """Class decorator: register an :class:`Attack` subclass under ``name``."""

    def deco(cls: type[Attack]) -> type[Attack]:
        if name in _ATTACKS:
            raise ValueError(f"attack {name!r} is already registered")
        cls.name = name
        _ATTACKS[name] = cls
        return cls

    return deco


def list_attacks() -> list[str]:
    """Names of all registered attacks, sorted."""
    return sorted(_ATTACKS)


def attack_class(name: str) -> type[Attack]:
    """The class registered as ``name``; ``ValueError`` listing the choices otherwise."""
    try:
        return _ATTACKS[name]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; choose from {', '.join(list_attacks())}") from None


def create_attack(name: str, model: nn.Module, eps: float, **kwargs: Any) -> Attack:
    """Build the attack ``name`` against ``model`` (images -> logits) with budget ``eps``."""
    return attack_class(name)(model, eps, **kwargs)
