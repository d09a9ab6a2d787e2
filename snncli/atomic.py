"""Atomic files: the one way snn puts bytes on disk. Below every layer but the errors.

A file is written to a temporary name beside it (``.<name>.<pid>-<random>.tmp``), flushed to disk,
then renamed over the target, so a reader sees the old file or the new one, never half of one, and
a crash (SIGKILL, power loss, a full disk) leaves the previous version in place.

- **Modes follow the umask**: the temporary file is created with ``0o666`` and the kernel applies the
  process umask (``tempfile.mkstemp`` would make every file ``0600``).
- **A full disk is one line**: every byte goes through :func:`_write_all`; an ``OSError`` there (ENOSPC,
  EDQUOT, EIO...) removes the temporary file and raises :class:`WriteError`, a :class:`~snncli.errors.SnnError`
  naming the file, the reason and that the previous version is intact.
- **Dead writers leave no litter for long**: the temporary name carries the writer's pid;
  :func:`clean_stale_temps` removes those of processes that no longer run (called when a run folder
  is locked, so the next run cleans up after a killed one).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import SnnError

#: ``.<name>.<pid>-<random>.tmp``: the temporary files of this module.
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
#: Temporary files of earlier snn versions (``tempfile.mkstemp``: 8 random characters, no pid).
_LEGACY_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.(tmp|png|part)$|^\..+\.tmp\.npz$")
#: A temporary file without a pid is left alone this long (its writer may still be running).
LEGACY_STALE_S = 3600.0


class WriteError(SnnError, OSError):
    """A file could not be written (disk full, quota, permissions, I/O error); the previous version is intact.

    Attributes:
        path: the file that was being written.
        errno: the operating system's error number.
    """

    def __init__(self, message: str, *, path: Path | None = None, error: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = error

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "write failed"


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (the one low-level write of every snn file)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _temp_path(path: Path) -> Path:
    return path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "the disk is full" if exc.errno == errno.ENOSPC else "the disk quota is exceeded"
    return exc.strerror or type(exc).__name__


class _Sink:
    """What :func:`atomic_file` yields: ``write(bytes)`` into the temporary file."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def write(self, data: bytes) -> int:
        try:
            _write_all(self.fd, data)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        return len(data)


def write_error(path: Path, exc: OSError) -> WriteError:
    return WriteError(f"{path}: cannot write it: {_reason(exc)} (errno {exc.errno}); any previous version is intact",
                      path=path, error=exc.errno)


@contextmanager
def atomic_file(path: Path, *, sync: bool = True) -> Iterator[_Sink]:
    """Write ``path`` through the yielded sink; it appears (renamed into place) only if the block succeeds.

    Raises:
        WriteError: the folder cannot be created or written, or the disk is full; nothing was
            replaced and no temporary file is left behind. (Errors of the block itself pass unchanged.)
    """
    path = Path(path)
    tmp = _temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        yield _Sink(fd, path)
        try:
            if sync:
                os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
        except OSError as exc:
            raise write_error(path, exc) from None
    except BaseException:
        _discard(fd, tmp)
        raise


def _discard(fd: int, tmp: Path) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def write_bytes_atomic(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (see the module docstring)."""
    with atomic_file(path, sync=sync) as f:
        f.write(data)


def current_umask() -> int:
    """The process umask (read from ``/proc`` where it can be, so no other thread sees it changed)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return False
    try:  # a zombie has exited: its files are stale
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True


def stale_temps(folder: Path) -> list[Path]:
    """Temporary files in ``folder`` (not below) whose writer is gone: its pid no longer runs, or, for
    files of earlier versions that carry no pid, older than :data:`LEGACY_STALE_S`."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = []
    now = time.time()
    for entry in folder.iterdir():
        m = _TEMP.match(entry.name)
        try:
            if m is not None:
                if not pid_alive(int(m.group("pid"))):
                    stale.append(entry)
            elif _LEGACY_TEMP.match(entry.name) and entry.is_file() and now - entry.stat().st_mtime > LEGACY_STALE_S:
                stale.append(entry)
        except OSError:
            continue
    return stale


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove :func:`stale_temps` of ``folder``; returns what was removed."""
    removed = []
    for p in stale_temps(folder):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed
