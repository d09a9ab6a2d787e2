"""The options every command shares (``--config``, ``--json``) and how given values meet a config file.

Generated options default to ``None`` ("not given"): only values the user typed override a
``--config`` file, and the defaults and their documentation live in the pydantic model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

ConfigFile = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="JSON, YAML or TOML file with the same keys as the flags; flags override it."),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the final result as one JSON object on stdout.")]


def collect(values: dict[str, Any], file_values: dict[str, Any]) -> dict[str, Any]:
    """Config-file values overridden by the flags that were given (``None`` and ``[]``: not given)."""
    merged = dict(file_values)
    merged.update({k: v for k, v in values.items() if v is not None and v != []})
    return merged


def with_config_file(values: dict[str, Any], config: Path | None, seed_format: bool = True) -> dict[str, Any]:
    """The given flags over the values of ``--config`` (ours; with ``seed_format``, a PlasticFlex seed config too)."""
    from ..config import from_seed_format, load_config_file

    file_values = load_config_file(config) if config else {}
    return collect(values, from_seed_format(file_values) if seed_format else file_values)
