"""One declaration per setting: a pydantic field that also says how it is spelled and what it means for a run.

::

    lr: float = setting(1e-3, "Learning rate.", panel=TRAIN, gt=0, seed="learning_rate")

Everything else is derived from that one line:

- **flags**: ``--lr`` (the field name in kebab-case, or ``flag=``) and ``short=``; the seeds' spellings
  are derived, never typed: the field name as written (``--hidden_dim``, G2G's scripts) and every
  ``seed=`` name (PlasticFlex's JSON keys) in both spellings (``--learning-rate``, ``--learning_rate``).
  ``--help`` lists them once, in the epilog, not in every row;
- **help**: the description, a Literal's choices, the default;
- **panel**: the ``--help`` panel the option is listed in;
- **identity** (default ``True``): whether the value changes a run's results, so that a run folder
  holding other values is neither returned nor resumed (:mod:`snncli.config.identity`). ``False`` for
  where and how a run executes (``out``, ``device``, ``threads``...). ``extends=True`` marks the one
  setting a finished run can be raised in (``epochs``: resume from the last checkpoint);
- **resolved defaults**: ``default=None`` with ``resolve=True`` means "the model's (or dataset's)
  registered default" (:mod:`snncli.config.defaults`); ``follows="x"`` means "the value of ``x``";
- **arguments**: ``argument=1`` (or ``True``) makes it the first positional argument, ``2`` the second...;
  ``comma=True`` takes a list as one comma-separated value (``snn attack pgd,fgsm RUN``);
- **config-file keys**: the ``seed=`` names are accepted in config files too (:mod:`snncli.config.seedformat`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

_KEY = "snn"


@dataclass(frozen=True)
class SettingMeta:
    """What a field says beyond its type, default and description (see the module docstring)."""

    panel: str | None = None
    flag: str | None = None
    short: str | None = None
    aliases: tuple[str, ...] = ()
    seed: tuple[str, ...] = ()
    negative: str | None = None
    metavar: str | None = None
    argument: int = 0
    comma: bool = False
    cli: bool = True
    identity: bool = True
    extends: bool = False
    resolve: bool = False
    follows: str | None = None
    fallback: Any = None
    default_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def setting(
    default: Any = ...,
    help: str = "",  # noqa: A002 - what it is
    *,
    panel: str | None = None,
    flag: str | None = None,
    short: str | None = None,
    aliases: tuple[str, ...] | str = (),
    seed: tuple[str, ...] | str = (),
    negative: str | None = None,
    metavar: str | None = None,
    argument: int = 0,
    comma: bool = False,
    cli: bool = True,
    identity: bool = True,
    extends: bool = False,
    resolve: bool = False,
    follows: str | None = None,
    fallback: Any = None,
    default_text: str | None = None,
    **constraints: Any,
) -> Any:
    """A pydantic ``Field`` carrying :class:`SettingMeta`; ``constraints`` are ``Field``'s (``ge=``, ``gt=``...)."""
    meta = SettingMeta(
        panel=panel, flag=flag, short=short, aliases=_tuple(aliases), seed=_tuple(seed), negative=negative,
        metavar=metavar, argument=int(argument), comma=comma, cli=cli, identity=identity, extends=extends, resolve=resolve or bool(follows),
        follows=follows, fallback=fallback, default_text=default_text,
    )
    given = {} if "default_factory" in constraints else {"default": default}
    return Field(**given, description=help, json_schema_extra={_KEY: meta.__dict__}, **constraints)


def _tuple(v: tuple[str, ...] | str) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)


def meta_of(info: FieldInfo) -> SettingMeta:
    """The :class:`SettingMeta` of a field (defaults for a plain ``Field``)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get(_KEY), dict):
        return SettingMeta(**extra[_KEY])
    return SettingMeta()


def kebab(name: str) -> str:
    return "--" + name.replace("_", "-")


def flags_of(name: str, info: FieldInfo) -> tuple[list[str], list[str]]:
    """``(shown, aliases)``: the flags ``--help`` lists in the option's row, and the other spellings it accepts.

    Shown: the primary flag (``flag=`` or the kebab-case name) and ``short=``. Aliases, derived: the
    kebab-case name when ``flag=`` replaces it, the field name as written (``--hidden_dim``), every
    ``seed=`` name in kebab and snake case, and ``aliases=``.
    """
    m = meta_of(info)
    primary = m.flag or kebab(name)
    shown = [primary] + ([m.short] if m.short else [])
    derived = [kebab(name), "--" + name, *m.aliases]
    for s in m.seed:
        derived += [kebab(s), "--" + s]
    aliases = [f for f in dict.fromkeys(derived) if f not in shown]
    return shown, aliases


def seed_keys(model: type) -> dict[str, str]:
    """``{seed key: field}`` over ``model``'s fields: the config-file keys the seeds wrote."""
    return {s: name for name, info in model.model_fields.items() for s in meta_of(info).seed}


def identity_fields(model: type) -> list[str]:
    """The fields of ``model`` that change a run's results."""
    return [name for name, info in model.model_fields.items() if meta_of(info).identity]


def borrowed(name: str, source: type[BaseModel], fields: dict[str, dict[str, Any]], base: type[BaseModel]) -> type[BaseModel]:
    """A config class ``name`` (deriving from ``base``) made of ``source``'s fields: same type, checks,
    flags and help, except what ``fields[f]`` replaces (``default``, ``help``, ``panel``).

    How one command composes another's settings instead of re-declaring them (``snn plasticity``'s
    supervised baseline is an ``snn train`` run).
    """
    definitions: dict[str, Any] = {}
    for f, change in fields.items():
        info = source.model_fields[f]
        kw: dict[str, Any] = {}
        if "default" in change:
            kw["default"] = change["default"]
        if "help" in change:
            kw["description"] = change["help"]
        if "panel" in change:
            meta = {**meta_of(info).__dict__, "panel": change["panel"]}
            kw["json_schema_extra"] = {_KEY: meta}
        definitions[f] = (info.annotation, FieldInfo.merge_field_infos(info, **kw) if kw else info)
    return create_model(name, __base__=base, **definitions)
