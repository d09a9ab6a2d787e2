"""Fetching dataset files from public mirrors into the user cache.

Plain ``urllib`` with a short timeout: a machine without network must fail fast
and fall through to the "not found" message, not hang. Every file is written to
a temporary name in the destination folder and renamed into place only once
complete and verified, so an interrupted download never leaves a file that
looks valid.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from snncli.atomic import atomic_file, current_umask
from snncli.data.errors import DownloadError

TIMEOUT_S = 10.0
"""Seconds to wait for a connection or for the next block of a response."""

_CHUNK = 1 << 20


def download_file(url: str, dest: Path, md5: str | None = None, timeout: float = TIMEOUT_S) -> Path:
    """Downloads one URL to ``dest`` atomically.

    Args:
        url: Source (any scheme ``urllib`` opens, ``file://`` included).
        dest: Final path; its folder is created if needed.
        md5: Expected hex digest; a mismatch discards the download.
        timeout: Socket timeout in seconds.

    Returns:
        ``dest``.

    Raises:
        OSError: Network or disk failure, or a checksum mismatch (the partial file is removed).
    """
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_file(dest) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            digest.update(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise OSError(f"checksum mismatch (md5 {digest.hexdigest()}, expected {md5})")
    return dest


def download_any(urls: Sequence[str], dest: Path, md5: str | None = None, timeout: float = TIMEOUT_S) -> Path:
    """Tries each mirror in turn until one download succeeds.

    Raises:
        DownloadError: Every mirror failed; the message lists each URL with its error.
    """
    failures = []
    for url in urls:
        try:
            return download_file(url, dest, md5=md5, timeout=timeout)
        except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors; bad URLs are ValueErrors
            failures.append(f"{url}: {exc}")
    raise DownloadError("; ".join(failures) if failures else f"no mirror configured for {dest.name}")


def extract_members(archive: Path, members: dict[str, str], dest: Path) -> Path:
    """Extracts selected regular files of a tar archive into a new folder, atomically.

    Only the named members are read and each is written under its own base name, so
    an archive cannot place files outside ``dest`` whatever paths it contains.

    Args:
        archive: A ``.tar``, ``.tar.gz`` or ``.tgz`` file.
        members: Maps base names inside the archive to file names to write.
        dest: Folder to create; it must not exist yet, or is replaced if it does.

    Returns:
        ``dest``.

    Raises:
        OSError: The archive is unreadable or lacks one of ``members``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes it 0700; the dataset folder follows the umask
    try:
        found = set()
        try:
            with tarfile.open(archive) as tar:
                for info in tar:
                    base = info.name.rsplit("/", 1)[-1]
                    if info.isfile() and base in members and base not in found:
                        source = tar.extractfile(info)
                        assert source is not None  # regular files always have a payload
                        with source, atomic_file(staging / members[base], sync=False) as out:
                            shutil.copyfileobj(source, out, _CHUNK)
                        found.add(base)
        except (tarfile.TarError, EOFError) as exc:
            raise OSError(f"{archive}: not a readable tar archive ({exc})") from exc
        missing = sorted(set(members) - found)
        if missing:
            raise OSError(f"{archive}: archive lacks {', '.join(missing)}")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest
