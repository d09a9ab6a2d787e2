"""A run's identity: the settings that change its results, read from the fields' metadata.

A run folder holds the results of one setting. Before a finished run is returned or an unfinished one
resumed, its stored configuration is compared with the one asked for, over every field declared with
``identity=True`` (the default; ``out``, ``force``, ``device``, ``threads``, ``data_root``, ``backbone``,
``num_classes`` and the schedulers' ``jobs``... are ``identity=False``). Nothing is listed by hand: a new
setting is part of the identity unless its field says otherwise.

One setting may grow: ``extends=True`` (``epochs``). A run that has done no more epochs than asked is
resumed from its last checkpoint, a finished one extended, unless the learning-rate schedule depends
on the total (``cosine``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .setting import meta_of


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def differences(stored: dict[str, Any], cfg: BaseModel, done_epochs: int | None = None) -> list[str]:
    """The identity settings whose ``stored`` value differs from ``cfg``'s, as ``key=stored`` / ``key=cfg`` pairs.

    A key ``stored`` lacks predates that setting: the run used the field's default then. An
    ``extends`` setting differs only if the run has done more than ``cfg`` asks (``done_epochs``),
    or if a cosine schedule was stretched over another total.

    Returns:
        The differing field names, in field order.
    """
    fields = type(cfg).model_fields
    current = cfg.model_dump(mode="json")
    diff = []
    for name, info in fields.items():
        m = meta_of(info)
        if not m.identity:
            continue
        old = stored.get(name, _json(info.get_default(call_default_factory=True)))
        new = current.get(name)
        if old == new:
            continue
        if m.extends and isinstance(old, int) and isinstance(new, int):
            done = old if done_epochs is None else done_epochs
            if done <= new and current.get("lr_schedule") != "cosine":
                continue
        diff.append(name)
    return diff


def describe(stored: dict[str, Any], cfg: BaseModel, keys: list[str]) -> str:
    """``(hidden_dim=64, lr=0.001; this run has hidden_dim=32, lr=0.1)``."""
    current = cfg.model_dump(mode="json")
    fields = type(cfg).model_fields
    old = ", ".join(f"{k}={stored.get(k, _json(fields[k].get_default(call_default_factory=True)))!r}" for k in keys)
    new = ", ".join(f"{k}={current.get(k)!r}" for k in keys)
    return f"({old}; this run has {new})"


def identity(cfg: BaseModel, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """``cfg``'s identity settings as JSON values (what a fingerprint hashes)."""
    current = cfg.model_dump(mode="json")
    return {k: current[k] for k, info in type(cfg).model_fields.items() if meta_of(info).identity and k not in exclude}
