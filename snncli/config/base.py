"""Shared pieces of the command configs: strictness, config-file loading, readable errors."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import SnnError


class StrictModel(BaseModel):
    """Base of every command config: unknown keys are errors, assignments are validated, floats are finite."""

    # allow_inf_nan=False: every float of every config (lists and tuples included) is finite; NaN and
    # infinities are refused with the option's name, before any work.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True, allow_inf_nan=False)


class ConfigFileError(SnnError, ValueError):
    """A config file that cannot be read or parsed."""


def load_config_file(path: Path, option: str = "--config") -> dict[str, Any]:
    """Read a JSON, YAML or TOML file of option values (keys as in the config model).

    Keys may use ``-`` or ``_`` (``hidden-dim`` and ``hidden_dim`` are the same key). The file is UTF-8,
    with or without a byte-order mark; anything else is one :class:`ConfigFileError` line naming ``option``.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigFileError(f"{option}: no such file: {path}" if not path.exists() else f"{option}: {path} is not a file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{option}: {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                              f"{exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigFileError(f"{option}: cannot read {path} ({exc.strerror or exc})") from None
    if "\x00" in text:
        raise ConfigFileError(f"{option}: {path} holds NUL bytes: not a text file")
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
            raise ConfigFileError(f"{option}: {path} must end in .json, .yaml, .yml or .toml")
    except ConfigFileError:
        raise
    except RecursionError:
        raise ConfigFileError(f"{option}: cannot parse {path}: nested too deeply") from None
    except Exception as exc:  # the parsers' own error types differ; all mean "unreadable"
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ConfigFileError(f"{option}: cannot parse {path}: {first}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{option}: {path} must hold a mapping of option names to values")
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
