"""Shared pieces of the command configs: strictness, config-file loading, readable errors."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import SnnError


class StrictModel(BaseModel):
    """Base of every command config: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class ConfigFileError(SnnError, ValueError):
    """A config file that cannot be read or parsed."""


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a JSON, YAML or TOML file of option values (keys as in the config model).

    Keys may use ``-`` or ``_`` (``hidden-dim`` and ``hidden_dim`` are the same key).
    """
    if not path.is_file():
        raise ConfigFileError(f"--config: no such file: {path}")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data = tomllib.loads(text)
        else:
            raise ConfigFileError(f"--config: {path} must end in .json, .yaml, .yml or .toml")
    except ConfigFileError:
        raise
    except Exception as exc:  # the parsers' own error types differ; all mean "unreadable"
        raise ConfigFileError(f"--config: cannot parse {path}: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"--config: {path} must hold a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the option and what is allowed, for the first error pydantic found."""
    err = exc.errors()[0]
    loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
    option = "--" + loc[0].replace("_", "-") if loc else "config"
    msg = err.get("msg", "invalid value")
    if err.get("type") == "extra_forbidden":
        return f"{option}: unknown option (not a setting of this command)"
    msg = msg.removeprefix("Value error, ")
    named = re.match(r"^([a-z_]+): (.*)$", msg)
    if not loc and named:  # a cross-field check that names the option it is about
        option, msg = "--" + named.group(1).replace("_", "-"), named.group(2)
    value = err.get("input")
    if isinstance(value, PurePath):
        value = str(value)
    # A message that already quotes the value says it once.
    repeated = value is not None and str(value) in msg
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) and not repeated else ""
    more = len(exc.errors()) - 1
    tail = f" [+{more} more]" if more else ""
    return f"{option}: {msg}{shown}{tail}"
