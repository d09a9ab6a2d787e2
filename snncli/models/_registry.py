"""The model registry: the only way to build a model by name.

Each variant is a small function decorated with :func:`register_model` and named like
the variant; :func:`create_model` passes it the keyword arguments it declares and drops
the rest, so one set of command-line options can build any registered model.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Register ``fn`` under its own name."""
    if fn.__name__ in _MODELS:
        raise ValueError(f"model {fn.__name__!r} is already registered")
    _MODELS[fn.__name__] = fn
    return fn


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return sorted(_MODELS)


def model_defaults(name: str) -> dict[str, Any]:
    """The defaults a variant declares (e.g. ``hidden_dim=2048, T=50`` for ``dense``)."""
    fn = _get(name)
    return {
        k: p.default
        for k, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model, passing only the arguments its variant accepts.

    Raises:
        ValueError: unknown name (the message lists the registered ones).
    """
    fn = _get(name)
    accepted = inspect.signature(fn).parameters
    return fn(**{k: v for k, v in kwargs.items() if k in accepted and v is not None})


def _get(name: str) -> Callable[..., nn.Module]:
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(list_models())}") from None
