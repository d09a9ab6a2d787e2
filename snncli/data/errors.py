"""Errors raised by the data layer.

Every exception takes its full message as the single positional argument and
keeps any extra detail in keyword-only attributes, so that it survives being
pickled across worker processes (``BaseException`` re-creates itself from
``args`` alone).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SnnError, UnknownNameError


class UnknownDatasetError(UnknownNameError):
    """A dataset name that is not registered; the message names the allowed values (``allowed``)."""


class DatasetNotFoundError(SnnError, FileNotFoundError):
    """The files of a dataset are in none of the places looked in.

    Attributes:
        dataset: The requested dataset name.
        places: Every folder that was looked in, in search order.
    """

    def __init__(self, message: str, *, dataset: str = "", places: tuple[Path, ...] = ()) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.places = places

    def __str__(self) -> str:
        # OSError formats itself as "[Errno ...]" only when given errno; with one argument
        # it would already print the message, but keep it explicit for subclasses.
        return str(self.args[0]) if self.args else ""


class DataRootError(DatasetNotFoundError, ValueError):
    """The data root given by the user (``--data-root``) is missing or not a folder.

    It is both a :class:`DatasetNotFoundError` and a :class:`ValueError` because it is a
    bad argument rather than missing data: callers that treat bad arguments as usage
    errors catch it as ``ValueError``.
    """


class CorruptDatasetError(SnnError, ValueError):
    """A dataset file exists but does not hold what its format promises.

    Attributes:
        path: The offending file.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class DownloadError(SnnError, OSError):
    """Every mirror of a file failed; the message lists each URL and its error."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
