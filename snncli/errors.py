"""The base class of every expected failure. Below every layer: it imports nothing.

Each domain error derives from :class:`SnnError` (and from the builtin its callers already catch,
``ValueError``, ``RuntimeError``, ``FileNotFoundError``...). The CLI catches ``SnnError`` in one place
and prints ``snn: error: <message>`` with exit status 2, so a new error class needs no CLI edit.
"""

from __future__ import annotations

from collections.abc import Iterable


class SnnError(Exception):
    """Bad input, an unusable run or a missing resource: one readable line, nothing written.

    The message is the first argument, whole; keyword details go into attributes, so the error
    survives pickling across worker processes (``BaseException`` re-creates itself from ``args``).
    ``exit_code`` is the status the CLI exits with: 2 (bad input, unusable run: nothing was done), or
    1 where the work started and failed (a diverged training run).
    """

    exit_code: int = 2

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class UnknownNameError(SnnError, KeyError, ValueError):
    """A name no registry knows. A ``KeyError`` (registries are mappings) and a ``ValueError`` (a bad argument).

    Attributes:
        allowed: the names the registry knows.
    """

    def __init__(self, message: str, *, allowed: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.allowed = tuple(allowed)
