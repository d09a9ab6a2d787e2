"""One place that turns expected failures into one readable line and an exit status."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer
from pydantic import ValidationError

from ..config import ConfigFileError, describe_validation_error

EXIT_USAGE = 2       # bad input: nothing was run or written
EXIT_FAILED = 1      # the work itself failed
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``snn: error: message`` on stderr and exit."""
    typer.echo(f"snn: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Map the errors a user can cause to one line + exit 2; an interrupt to exit 130."""
    from ..data import DatasetNotFoundError, UnknownDatasetError
    from ..engine import CheckpointError, DeviceUnavailableError
    from ..engine.backbone import BackboneMissingError
    from ..engine.crossval import ExecutorUnavailableError
    from ..jobs.plasticity import PlasticityInputError
    from ..engine.trainer import InputMismatchError

    try:
        yield
    except ValidationError as exc:
        fail(describe_validation_error(exc))
    except (
        ConfigFileError, UnknownDatasetError, DeviceUnavailableError, ExecutorUnavailableError, BackboneMissingError,
        PlasticityInputError, InputMismatchError,
    ) as exc:
        fail(str(exc))
    except DatasetNotFoundError as exc:
        # Lists every place looked: several lines, on purpose.
        fail(str(exc))
    except CheckpointError as exc:
        fail(f"{exc}; nothing was changed (or pass --force to start over there)")
    except KeyboardInterrupt:
        typer.echo("snn: interrupted; finished epochs are saved, re-run the same command to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
