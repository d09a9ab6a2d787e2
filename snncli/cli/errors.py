"""One place that turns expected failures into one readable line and an exit status.

Every domain error derives from :class:`snncli.errors.SnnError`; a new one needs no edit here.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer
from pydantic import ValidationError

from ..config import describe_validation_error
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


@contextmanager
def user_errors(interrupted: str = TRAINING_INTERRUPTED) -> Iterator[None]:
    """Bad input (a :class:`SnnError` or a refused setting) -> one line, exit 2; an interrupt -> ``interrupted``, exit 130."""
    try:
        yield
    except ValidationError as exc:
        fail(describe_validation_error(exc))
    except SnnError as exc:  # a missing dataset lists every place looked: several lines, on purpose
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo(f"snn: {interrupted}", err=True)
        sys.exit(EXIT_INTERRUPTED)
