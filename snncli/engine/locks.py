"""Run-folder locks: one snn process writes in a run folder at a time.

A second ``snn train`` of the same run (or a re-run of a crossval whose orphaned workers still write)
would interleave two writers' checkpoints and metrics. :class:`RunLock` takes an exclusive lock on
``<folder>/.lock`` (``flock``; the kernel drops it when its process dies, however it dies), and writes
who holds it (pid, host, command, start time) into the file so that the refusal can name the holder.
A lock file left by a dead process is simply taken over: its ``flock`` died with it.

Where ``fcntl`` is missing (Windows), the lock is the file's existence and the pid in it: a lock whose
pid no longer runs is stale and taken over.

The lock is released (and the file removed) when the run ends, by success or error; folders the lock
created and that stayed empty are removed again, so a refused run leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ..atomic import WriteError, clean_stale_temps, pid_alive, write_error
from ..errors import SnnError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunLockedError(SnnError, RuntimeError):
    """The run folder is in use by another process (named in the message); nothing was changed.

    Attributes:
        holder: what the lock file says about its holder (pid, host, command, since).
    """

    def __init__(self, message: str, *, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


def _command() -> str:
    argv = list(sys.argv)
    if argv:
        argv[0] = Path(argv[0]).name
    text = " ".join(argv)
    return text if len(text) <= 160 else text[:157] + "..."


def describe_holder(holder: dict[str, Any]) -> str:
    """``pid 1234 on host, `snn train ...`, since 12:01:02``."""
    parts = []
    if holder.get("pid"):
        parts.append(f"pid {holder['pid']}" + (f" on {holder['host']}" if holder.get("host") else ""))
    if holder.get("command"):
        parts.append(f"`{holder['command']}`")
    if holder.get("since"):
        parts.append(f"since {holder['since']}")
    return ", ".join(parts) or "a process that has not yet said who it is"


def read_holder(folder: Path) -> dict[str, Any]:
    """What ``folder``'s lock file says about its holder (``{}`` when unreadable)."""
    try:
        data = json.loads((Path(folder) / LOCK_NAME).read_text(encoding="utf-8", errors="replace") or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class RunLock:
    """Exclusive use of ``folder`` by this process (a context manager; re-usable after release).

    Args:
        folder: the run folder; created (with missing parents) on acquire, removed again on release
            if it was created here and is still empty.
        clean: remove stale temporary files of dead writers in ``folder`` once the lock is held.

    Raises (on acquire):
        RunLockedError: another live process holds the folder.
        WriteError: the folder cannot be created or written.
    """

    def __init__(self, folder: Path, clean: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.clean = clean
        self._fd = -1
        self._created: list[Path] = []

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def _mkdirs(self) -> None:
        missing = []
        p = self.folder
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError(f"{self.folder}: cannot create this folder: {exc.strerror or exc}", path=self.folder,
                             error=exc.errno) from None
        self._created = missing  # deepest first

    def acquire(self) -> RunLock:
        if self.held:
            return self
        self._mkdirs()
        try:
            self._fd = self._flock() if fcntl is not None else self._exclusive_create()
            info = {"pid": os.getpid(), "host": socket.gethostname(), "command": _command(),
                    "since": time.strftime("%Y-%m-%d %H:%M:%S")}
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, json.dumps(info).encode())
        except OSError as exc:
            self.release()
            if isinstance(exc, WriteError):
                raise
            raise write_error(self.path, exc) from None
        except BaseException:
            self.release()
            raise
        if self.clean:
            clean_stale_temps(self.folder)
        return self

    def _refuse(self, holder: dict[str, Any]) -> RunLockedError:
        return RunLockedError(
            f"{self.folder}: in use by another snn process ({describe_holder(holder)}); wait for it to finish or "
            "stop it; nothing was changed", holder=holder,
        )

    def _flock(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._refuse(read_holder(self.folder)) from None
            except BaseException:
                os.close(fd)
                raise
            try:  # the holder before us may have removed the file while we waited on its old inode
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)

    def _exclusive_create(self) -> int:
        for _ in range(3):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                holder = read_holder(self.folder)
                if isinstance(holder.get("pid"), int) and pid_alive(holder["pid"]):
                    raise self._refuse(holder) from None
                self.path.unlink(missing_ok=True)  # a dead process's lock: take it over
        raise self._refuse(read_holder(self.folder))

    def release(self) -> None:
        if self.held:
            try:
                self.path.unlink(missing_ok=True)  # while still holding it: a waiter re-checks the inode
            except OSError:
                pass
        self._drop()

    def _drop(self) -> None:
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1
        for d in self._created:  # deepest first; only what this lock created, only if still empty
            try:
                d.rmdir()
            except OSError:
                break
        self._created = []

    def keep_folder(self) -> None:
        """The folder now holds results: do not remove it on release even if it looks empty."""
        self._created = []

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
