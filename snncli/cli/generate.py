"""Typer commands generated from the config models.

Each setting's field (:func:`snncli.config.setting.setting`) says how it is spelled, documented and
grouped; :func:`options` turns a config model into the parameters of a command, so a new setting is a
new field and nothing else. The command parses numbers, paths and flags; everything else (choices,
registry names, ``2:1``, ``8/255``) is passed on as text and validated by pydantic, so no choice is
baked into the command and building it imports no torch: registry names (models, datasets...) are
filled into ``--help`` only when it is shown.

:class:`SnnCommand` lists each option once, under its primary flag; the other spellings it accepts
(the seeds' ``--hidden_dim``, ``--spiking_decay``...) are listed once, in the epilog.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, List, Literal, Optional, Union, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from typer.core import TyperCommand, TyperOption

from ..config.fields import PANELS, RUN, Choices
from ..config.setting import flags_of, kebab, meta_of

BOOL = "BOOL"  # true/false, yes/no, 1/0: the PlasticFlex seed's `--spiking true` spelling
#: Suffix of the parameter that takes a positional argument as an option, under the seeds' names
#: (``snn attack --attack PGD --checkpoint_dir RUN``, as PlasticFlex's scripts are called).
AS_OPTION = "__as_option"


def _base(annotation: Any) -> Any:
    """``X`` of ``X | None`` / ``Optional[X]`` / ``Annotated[X, ...]``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _base(args[0])
    return annotation


def _literal_choices(annotation: Any) -> list[str]:
    base = _base(annotation)
    return [str(a) for a in get_args(base)] if get_origin(base) is Literal else []


def _registry_choices(info: FieldInfo) -> Choices | None:
    for m in info.metadata:
        if isinstance(m, Choices):
            return m
    base = info.annotation
    while get_origin(base) in (Union, types.UnionType, Annotated, list):
        for a in get_args(base)[1:] if get_origin(base) is Annotated else get_args(base):
            if isinstance(a, Choices):
                return a
        base = get_args(base)[0]
    return None


def _cli_type(info: FieldInfo) -> Any:
    """What the command parses a value as: ``int``, ``float`` and ``Path`` as themselves; text otherwise
    (Literals, registry names, tuples like ``2:1``, and fields that parse their own text, like ``8/255``)."""
    base = _base(info.annotation)
    if get_origin(base) is list:
        base = _base(get_args(base)[0])
    if get_origin(base) is Literal and all(type(a) is int for a in get_args(base)):
        return int  # Literal[1, 2]: pydantic takes 1, not "1"
    own_parser = any(type(m).__name__ == "BeforeValidator" for m in info.metadata)
    return base if base in (int, float, Path) and not own_parser else str


def _is_flag(info: FieldInfo) -> bool:
    """A plain on/off flag; an optional bool that defaults to None is a BOOL value (``--spiking true``), unless
    it declares a ``negative`` spelling: then a flag pair that leaves it unset (resolved) when neither is given."""
    return _base(info.annotation) is bool and (info.default is not None or meta_of(info).negative is not None)


def _is_list(info: FieldInfo) -> bool:
    return get_origin(_base(info.annotation)) is list


def _default_text(info: FieldInfo) -> str | None:
    m = meta_of(info)
    if m.default_text is not None:
        return m.default_text
    default = info.get_default(call_default_factory=True)
    if default is None or default == [] or (_is_flag(info) and default is False):
        return None
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, (list, tuple)):
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default)
    return str(default.value if hasattr(default, "value") else default)


def help_text(info: FieldInfo) -> str:
    """Description, the choices of a Literal, the default (registry choices are added when shown)."""
    text = info.description or ""
    choices = _literal_choices(info.annotation)
    if choices:
        text += f" One of: {', '.join(choices)}."
    default = _default_text(info)
    if default is not None:
        text += f" \\[default: {default}]"  # escaped: rich would read [..] as markup
    return text


def options(
    model: type[BaseModel],
    *,
    exclude: Iterable[str] = (),
    panel: str | None = None,
    defaults: dict[str, Any] | None = None,
) -> list[inspect.Parameter]:
    """One keyword parameter per CLI setting of ``model`` (``None`` = not given), in field order.

    Args:
        exclude: fields left out.
        panel: the ``--help`` panel of every option (default: each field's own).
        defaults: default values shown in ``--help`` instead of the model's (``snn dst``'s sparsity).
    """
    ranked = []
    for name, info in model.model_fields.items():
        m = meta_of(info)
        if not m.cli or name in exclude:
            continue
        if defaults and name in defaults:
            info = FieldInfo.merge_field_infos(info, default=defaults[name])
        shown_in = panel or m.panel
        rank = (0, m.argument) if m.argument else (1, _panel_rank(shown_in))
        ranked.append((rank, _parameter(name, info, shown_in)))
        if m.argument and m.seed:
            ranked.append(((2, 0), _argument_option(name, info)))
    return [param for _, param in sorted(ranked, key=lambda r: r[0])]  # stable: field order within a panel


def _panel_rank(panel: str | None) -> int:
    """Where a panel comes in ``--help``: :data:`snncli.config.fields.PANELS` order, a command's own
    panels after, "Run" last."""
    if panel == RUN:
        return len(PANELS) + 1
    return PANELS.index(panel) if panel in PANELS else len(PANELS)


def _parameter(name: str, info: FieldInfo, panel: str | None) -> inspect.Parameter:
    m = meta_of(info)
    kind = inspect.Parameter.KEYWORD_ONLY
    typ = _cli_type(info)
    if m.argument:
        ann = List[typ] if _is_list(info) and not m.comma else typ
        required = info.is_required() and not m.seed  # else it may come as an option (_argument_option)
        arg = typer.Argument(help=info.description or "", metavar=m.metavar or name.upper(), show_default=False,
                             autocompletion=_completer(info))
        if not required:
            ann = Optional[ann]
        return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[ann, arg],
                                 **({} if required else {"default": None}))
    shown, aliases = flags_of(name, info)
    common = dict(help=help_text(info), rich_help_panel=panel, show_default=False)
    completer = _completer(info)
    if completer is not None:
        common["autocompletion"] = completer
    if _is_flag(info):
        on = shown[0]
        off = m.negative or "--no-" + on[2:]
        decls = [f"{on}/{off}", *shown[1:], *aliases]
        return inspect.Parameter(name, kind, default=None, annotation=Annotated[Optional[bool], typer.Option(*decls, **common)])
    if m.metavar is None and _base(info.annotation) is bool:
        common["metavar"] = BOOL
    elif m.metavar is not None:
        common["metavar"] = m.metavar
    ann = Optional[List[typ]] if _is_list(info) and not m.comma else Optional[typ]
    return inspect.Parameter(name, kind, default=None, annotation=Annotated[ann, typer.Option(*shown, *aliases, **common)])


def _completer(info: FieldInfo) -> Callable[..., list[str]] | None:
    """Shell completion of a Literal's or a registry's names (the catalog's: no torch on TAB); after a
    comma (``--attacks fgsm,p``) it completes the last name."""
    literal = _literal_choices(info.annotation)
    choices = _registry_choices(info)
    if not literal and choices is None:
        return None

    def complete(incomplete: str) -> list[str]:  # typer passes what its annotation asks for
        done, _, last = incomplete.rpartition(",")
        prefix = done + "," if done else ""
        return [prefix + n for n in (literal or choices.names()) if n.startswith(last)]

    return complete


def _argument_option(name: str, info: FieldInfo) -> inspect.Parameter:
    """A hidden option that gives the positional argument ``name`` under the seeds' names (``seed=``)."""
    m = meta_of(info)
    decls = list(dict.fromkeys(f for s in m.seed for f in (kebab(s), "--" + s)))
    typ = _cli_type(info)
    ann = Optional[List[typ]] if _is_list(info) and not m.comma else Optional[typ]
    opt = typer.Option(*decls, hidden=True, help=f"{m.metavar or name.upper()}, as an option.", show_default=False)
    return inspect.Parameter(name + AS_OPTION, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[ann, opt])


def _merge_argument_options(values: dict[str, Any], metavars: dict[str, str]) -> dict[str, Any]:
    """Each positional argument given as an option (:data:`AS_OPTION`) moved to its setting."""
    from .errors import fail

    for key in [k for k in values if k.endswith(AS_OPTION)]:
        name, value = key[: -len(AS_OPTION)], values.pop(key)
        if value is None or value == []:
            continue
        if values.get(name) not in (None, []):
            fail(f"{metavars[name]}: given twice, as an argument and as an option; give it once")
        values[name] = value
    return values


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave (``None`` and empty repeatables mean "not given")."""
    return {k: v for k, v in values.items() if v is not None and v != []}


class _AliasedOption(TyperOption):
    """An option whose ``hidden_opts`` (and off-switch ``hidden_secondary``) are parsed but not shown in its row."""

    hidden_opts: list[str]
    hidden_secondary: list[str]

    def add_to_parser(self, parser, ctx):  # noqa: ANN001 - click's signature
        shown = self.opts, self.secondary_opts
        self.opts, self.secondary_opts = [*shown[0], *self.hidden_opts], [*shown[1], *self.hidden_secondary]
        try:
            return super().add_to_parser(parser, ctx)
        finally:
            self.opts, self.secondary_opts = shown


class SnnCommand(TyperCommand):
    """A command whose rows show one spelling per option; the others go, once, into the epilog.

    ``lazy_choices`` (set per generated command) maps parameter names to registries whose names are
    appended to the option's help when ``--help`` is shown, not when the command is built.
    """

    lazy_choices: dict[str, Choices] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spelled, offs = [], []
        for p in self.params:
            if not isinstance(p, TyperOption) or p.name == "help" or (p.name or "").endswith(AS_OPTION):
                continue
            longs = [o for o in p.opts if o.startswith("--")]
            hidden, off = longs[1:], list(p.secondary_opts)
            if hidden or off:
                p.opts = [o for o in p.opts if o not in hidden]
                p.secondary_opts = []  # the off switches: listed once below, not as a column of every row
                p.__class__ = _AliasedOption
                p.hidden_opts, p.hidden_secondary = hidden, off
            if hidden:
                spelled.append(f"{', '.join(hidden)} ({longs[0]})")
            offs += off
        for p in self.params:
            if (p.name or "").endswith(AS_OPTION):
                argument = next(a for a in self.params if a.name == p.name[: -len(AS_OPTION)])
                spelled.append(f"{', '.join(p.opts)} ({getattr(argument, 'metavar', None) or (argument.name or '').upper()})")
        notes = [self.epilog] if self.epilog else []
        if offs:
            notes.append("Switched off by: " + ", ".join(offs) + ".")
        if spelled:
            notes.append("Also accepted, the seeds' spellings: " + "; ".join(spelled) + ".")
        self.epilog = "\n\n".join(notes) or None
        self._choices_filled = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if not self._choices_filled:
            for p in self.params:
                choices = self.lazy_choices.get(p.name or "")
                if choices is not None and hasattr(p, "help"):
                    names = ", ".join(choices.names())
                    p.help = (p.help or "").replace(" \\[default:", f" One of: {names}. \\[default:", 1) \
                        if " \\[default:" in (p.help or "") else f"{p.help or ''} One of: {names}."
            self._choices_filled = True
        super().format_help(ctx, formatter)


def command(
    app: typer.Typer,
    name: str,
    body: Callable[..., Any],
    params: list[inspect.Parameter],
    *,
    models: Iterable[type[BaseModel]] = (),
    doc: str | None = None,
    config_file: bool = True,
) -> Callable[..., Any]:
    """Register ``body(**values)`` as ``name`` with the generated ``params``, ``--json`` and (``config_file``) ``--config``.

    ``models`` are the configs the params come from (for the names ``--help`` lists lazily).
    """
    from .options import ConfigFile, JsonOut

    extra = [inspect.Parameter("json_out", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOut)]
    if config_file:
        extra.insert(0, inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigFile))
    positional = [p for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword = [p for p in params if p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD]

    metavars = {p.name: (getattr(get_args(p.annotation)[1], "metavar", None) or p.name.upper()) for p in positional}

    def callback(*args: Any, **values: Any) -> Any:
        return body(**_merge_argument_options(values, metavars))

    callback.__signature__ = inspect.Signature([*positional, *keyword, *extra])  # type: ignore[attr-defined]
    callback.__doc__ = doc or body.__doc__
    callback.__name__ = f"{name.replace('-', '_')}_command"
    lazy = {}
    for model in models:
        for field, info in model.model_fields.items():
            choices = _registry_choices(info)
            if choices is not None:
                lazy[field] = choices
    cls = type(f"{callback.__name__}_cls", (SnnCommand,), {"lazy_choices": lazy})
    app.command(name, cls=cls)(callback)
    return callback
