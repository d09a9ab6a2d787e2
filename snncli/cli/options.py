"""Shared ``Annotated`` options, so every command spells and documents them the same way.

Options default to ``None`` ("not given"): only values the user typed override a
``--config`` file, and the defaults and their documentation live in the pydantic model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel


def _help(model: type[BaseModel], name: str, extra: str = "") -> str:
    f = model.model_fields[name]
    default = f.default
    shown = "" if default is None else f" [default: {default}]"
    return f"{f.description or ''}{extra}{shown}"


def opt(model: type[BaseModel], name: str, *decls: str, extra: str = "", panel: str | None = None, **kw: Any):
    """A Typer option whose help text and default come from ``model``'s field ``name``."""
    flags = decls or ("--" + name.replace("_", "-"),)
    return typer.Option(*flags, help=_help(model, name, extra), rich_help_panel=panel, show_default=False, **kw)


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
