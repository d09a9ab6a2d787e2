"""The one place unset settings get their defaults: the registry entries of the run's model and dataset.

A field declared ``setting(None, ..., resolve=True)`` means "the registered default". For each such
field left unset (absent or ``None``), the first of these that has a value wins:

1. the model's registered defaults (:func:`snncli.models.model_defaults`: its variant's signature,
   then the ``defaults=`` it was registered with, e.g. ``loss="membrane"`` for the conv family);
2. the dataset's registered defaults (``augment="crop-flip"`` for the CIFAR family);
3. the field's ``fallback``.

``follows="x"`` instead takes the resolved value of ``x`` (``use_stbp`` follows ``spiking``). A setting
the model does not have stays unset (``dropout`` of an MLP). Resolution runs before validation, so a
resolved value is checked like a given one, and ``config.json`` records what the run used.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .setting import meta_of


def registered_defaults(model: Any = None, dataset: Any = None) -> list[dict[str, Any]]:
    """The registered defaults of ``model`` and ``dataset`` (``{}`` for an unknown name: validation reports it)."""
    from ..data import DATASETS  # torch: resolved when a config is validated, not when it is imported
    from ..models import MODELS, model_defaults

    out = []
    if isinstance(model, str) and model in MODELS:
        out.append(model_defaults(model))
    if isinstance(dataset, str) and dataset in DATASETS:
        out.append(DATASETS.meta(dataset).get("defaults", {}))
    return out


def resolve_defaults(config: type[BaseModel], data: Any) -> Any:
    """``data`` (the raw values of ``config``) with every unset ``resolve=True`` field filled in."""
    if not isinstance(data, dict):
        return data
    fields = config.model_fields
    resolved = [(name, meta_of(info)) for name, info in fields.items() if meta_of(info).resolve]
    if not resolved:
        return data
    values = dict(data)

    def current(key: str) -> Any:
        return values.get(key, fields[key].default if key in fields else None)

    sources = registered_defaults(current("model"), current("dataset"))
    for name, m in sorted(resolved, key=lambda nm: nm[1].follows is not None):  # followers last
        if values.get(name) is not None:
            continue
        if m.follows:
            value = values.get(m.follows)
        else:
            value = next((src[name] for src in sources if name in src), m.fallback)
        if value is not None:
            values[name] = value
    return values
