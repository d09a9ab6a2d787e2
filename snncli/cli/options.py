"""Shared ``Annotated`` options, so every command spells and documents them the same way.

Options default to ``None`` ("not given"): only values the user typed override a
``--config`` file, and the defaults and their documentation live in the pydantic model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Sequence, get_args, get_origin

import typer
from pydantic import BaseModel


def _choices(annotation: Any) -> list[str]:
    """Allowed values of a ``Literal[...]`` field (possibly inside ``Optional``)."""
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    for arg in get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return []


def _help(model: type[BaseModel], name: str, choices: Sequence[str] = ()) -> str:
    f = model.model_fields[name]
    allowed = list(choices) or _choices(f.annotation)
    text = f.description or ""
    if allowed:
        text += f" One of: {', '.join(allowed)}."
    if f.default is not None:
        default = f.default.value if hasattr(f.default, "value") else f.default
        text += f" \\[default: {default}]"  # escaped: rich would read [..] as markup
    return text


def opt(model: type[BaseModel], name: str, *decls: str, choices: Sequence[str] = (), panel: str | None = None, **kw: Any):
    """A Typer option whose help text, allowed values and default come from ``model``'s field ``name``."""
    flags = decls or ("--" + name.replace("_", "-"),)
    return typer.Option(*flags, help=_help(model, name, choices), rich_help_panel=panel, show_default=False, **kw)


ConfigFile = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="JSON, YAML or TOML file with the same keys as the flags; flags override it."),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the final result as one JSON object on stdout.")]


def collect(values: dict[str, Any], file_values: dict[str, Any]) -> dict[str, Any]:
    """Config-file values overridden by the flags that were given."""
    merged = dict(file_values)
    merged.update({k: v for k, v in values.items() if v is not None})
    return merged
