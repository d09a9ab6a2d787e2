"""Shared pieces of the command configs: strictness, config-file loading, readable errors."""

from __future__ import annotations

import difflib
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
    # defer_build: a model's validator is built when it first validates, not when --help imports it (~100 ms).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True, allow_inf_nan=False,
                              defer_build=True)


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


def _model_named(title: str) -> type[BaseModel] | None:
    """The config class a validation error is about (``ValidationError.title`` is its name)."""
    stack: list[type[BaseModel]] = [StrictModel]
    while stack:
        cls = stack.pop()
        if cls.__name__ == title:
            return cls
        stack.extend(cls.__subclasses__())
    return None


def _spelled(model: type[BaseModel] | None, field: str) -> str:
    """How the user gave ``field``: its positional argument's name (``RUN``), else its primary flag."""
    from .setting import flags_of, meta_of

    info = model.model_fields.get(field) if model is not None else None
    if info is None:
        return "--" + field.replace("_", "-")
    m = meta_of(info)
    if m.argument:
        return m.metavar or field.upper()
    return flags_of(field, info)[0][0]


def _missing(model: type[BaseModel] | None, field: str) -> str:
    """``missing`` and how it is given: ``missing: give it as argument 2 (or --checkpoint_dir); see --help``."""
    from .setting import meta_of

    info = model.model_fields.get(field) if model is not None else None
    m = meta_of(info) if info is not None else None
    if m is None or not m.argument:
        return "missing; see --help"
    alt = ", ".join("--" + s for s in m.seed)
    return f"missing; give it as an argument{f' (or as {alt})' if alt else ''}, see --help"


def _unknown_key(model: type[BaseModel] | None, key: str) -> str:
    """An unknown key can only come from a config file (the command refuses unknown flags itself)."""
    from .setting import seed_keys

    known = [*(model.model_fields if model is not None else ()), *(seed_keys(model) if model is not None else ())]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"config: unknown key {key!r} (not a setting of this command){hint}"


def _shown(value: Any) -> str:
    """A value as the user typed it: paths and lists of them without Python's reprs."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value)
    return repr(value)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the option (or argument, or config-file key) and what is allowed, for the first
    error pydantic found."""
    err = exc.errors()[0]
    model = _model_named(exc.title)
    loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
    if err.get("type") == "extra_forbidden" and loc:
        return _unknown_key(model, loc[0])
    option = _spelled(model, loc[0]) if loc else "config"
    msg = err.get("msg", "invalid value").removeprefix("Value error, ")
    if err.get("type") == "missing" and loc:
        msg = _missing(model, loc[0])
    if err.get("type") == "too_short":  # pydantic's "List should have at least 1 item after validation, not 0"
        least = (err.get("ctx") or {}).get("min_length", 1)
        msg = f"needs at least {least} value{'s' if least != 1 else ''}"
    named = re.match(r"^([a-z_]+): (.*)$", msg)
    if not loc and named:  # a cross-field check that names the option it is about
        option, msg = _spelled(model, named.group(1)), named.group(2)
    value = err.get("input")
    # A message that already names the value (or each of its items) says it once.
    items = value if isinstance(value, (list, tuple)) else [value]
    repeated = value is not None and all(str(v) in msg for v in items) and len(items) > 0
    given = value is not None and not isinstance(value, dict) and value not in ([], (), "")
    shown = f" (got {_shown(value)})" if given and not repeated else ""
    more = len(exc.errors()) - 1
    tail = f" [+{more} more]" if more else ""
    return f"{option}: {msg}{shown}{tail}"
