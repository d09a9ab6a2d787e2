"""The model registry: the only way to build a model by name.

Each variant is a small function decorated with :func:`register_model` and named like the variant;
:func:`create_model` passes it the keyword arguments it declares and drops the rest, so one set of
command-line options can build any registered model. The registration says which ``family`` the
variant belongs to (``"mlp"``, ``"g2g"``, ``"conv"``) and the training defaults it implies beyond
its signature (``defaults=``, e.g. ``loss="membrane"``): :func:`model_defaults` is the one source
the configs resolve unset settings from.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import torch.nn as nn

from ..registry import Registry

#: Every model variant by name; metadata ``family`` and ``defaults``.
MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


def register_model(fn: Callable[..., nn.Module] | None = None, *, family: str = "mlp", defaults: dict[str, Any] | None = None):
    """Register ``fn`` under its own name: ``@register_model`` or ``@register_model(family=..., defaults=...)``."""

    def decorate(f: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        return MODELS.add(f.__name__, f, family=family, defaults=dict(defaults or {}))

    return decorate(fn) if fn is not None else decorate


def list_models(family: str | None = None) -> list[str]:
    """Names of the registered models (of ``family``), sorted."""
    return MODELS.names(**({"family": family} if family else {}))


def model_defaults(name: str) -> dict[str, Any]:
    """The defaults a variant declares: its signature's (``hidden_dim=2048, T=50`` for ``dense``),
    then its registration's ``defaults=``."""
    fn = MODELS[name]
    signature = {
        k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not inspect.Parameter.empty
    }
    return {**signature, **MODELS.meta(name)["defaults"]}


def model_family(name: str) -> str:
    """The family ``name`` was registered in."""
    return MODELS.meta(name)["family"]


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model, passing only the arguments its variant accepts.

    Raises:
        UnknownNameError: unknown name (a ``ValueError``; the message lists the registered ones).
    """
    fn = MODELS[name]
    accepted = inspect.signature(fn).parameters
    return fn(**{k: v for k, v in kwargs.items() if k in accepted and v is not None})
