"""One place that turns expected failures into one readable line and an exit status.

Every domain error derives from :class:`snncli.errors.SnnError`; a new one needs no edit here.
"""

from __future__ import annotations

import errno
import sys
from contextlib import contextmanager
from typing import Iterator, NoReturn

import click
import typer
from typer.core import TyperGroup

from ..errors import SnnError

EXIT_USAGE = 2       # bad input: nothing was run or written
EXIT_FAILED = 1      # the work itself failed
EXIT_INTERRUPTED = 130

TRAINING_INTERRUPTED = "interrupted; finished epochs are saved, re-run the same command to resume"
ANALYSIS_INTERRUPTED = "interrupted; outputs finished so far are in the analysis folder"


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``snn: error: message`` on stderr and exit."""
    typer.echo(f"snn: error: {message}", err=True)
    raise typer.Exit(code)


#: Errors of the file system that say something about the machine (a full disk, a read-only folder), not
#: about snn: one line, exit 2, like bad input. Other ``OSError``s are bugs and keep their traceback.
ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "ENOTDIR", "EISDIR", "EEXIST",
                                      "ENAMETOOLONG", "EMFILE", "ENFILE", "EIO", "ELOOP", "EFBIG", "EXDEV")
    if hasattr(errno, name)
)


def one_line(text: str) -> str:
    """``text`` on one line (a message that quotes a multi-line value keeps its first line)."""
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    return first or "error"


@contextmanager
def user_errors(interrupted: str = TRAINING_INTERRUPTED) -> Iterator[None]:
    """Bad input (a :class:`SnnError` or a refused setting) -> one line, exit 2 (or the error's ``exit_code``);
    a full disk or an unwritable folder -> one line, exit 2; an interrupt -> ``interrupted``, exit 130."""
    from pydantic import ValidationError  # here, not at import: `snn --help` needs no pydantic

    from ..config.base import describe_validation_error

    try:
        yield
    except ValidationError as exc:
        fail(describe_validation_error(exc))
    except SnnError as exc:  # a missing dataset lists every place looked: several lines, on purpose
        fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE))
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or one_line(str(exc))}")
    except KeyboardInterrupt:
        typer.echo(f"snn: {interrupted}", err=True)
        sys.exit(EXIT_INTERRUPTED)


#: Click's error base: typer's vendored copy (``typer._click``) in recent typer, click's own before.
_CLICK_ERRORS = tuple({c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"}
                      | {click.exceptions.ClickException})


@contextmanager
def click_errors_as_one_line() -> Iterator[None]:
    """Click's usage errors (unknown option, missing argument, ``--epochs abc``) as one ``snn: error:`` line and
    their exit status (2), instead of the usage text and a boxed panel."""
    try:
        yield
    except _CLICK_ERRORS as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `snn` alone prints the help: not an error
            raise
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None and ctx.command_path else ""
        typer.echo(f"snn: error: {one_line(exc.format_message())}{hint}", err=True)
        raise typer.Exit(exc.exit_code) from None


class SnnGroup(TyperGroup):
    """The root ``snn`` group: every parse error below it is one line (:func:`click_errors_as_one_line`)."""

    def make_context(self, info_name, args, parent=None, **extra):  # noqa: ANN001, ANN201 - click's signature
        with click_errors_as_one_line():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        with click_errors_as_one_line():
            return super().invoke(ctx)
