"""Where dataset files are looked for, and how a missing dataset is reported.

Search order, first complete folder wins:

1. the ``root`` argument (the CLI's ``--data-root``),
2. each folder in ``$SNN_DATA`` (``os.pathsep``-separated),
3. the user cache, ``$XDG_CACHE_HOME/snncli/data`` or ``~/.cache/snncli/data``,
4. system copies such as ``/usr/share/datasets/fashion-mnist`` (Debian ``dataset-*`` packages).

Under 1-3 a dataset may sit in the folder itself or in one of its usual sub-folders
(``fashion-mnist``, ``FashionMNIST/raw``, ``cifar-10-batches-py``, ...). The cache is
only searched by sub-folder because it is shared by all datasets, and MNIST and
Fashion-MNIST use the same file names.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from snncli.data.errors import DatasetNotFoundError

ENV_VAR = "SNN_DATA"
SYSTEM_ROOT = Path("/usr/share/datasets")


@dataclass(frozen=True)
class FileSpec:
    """The files one dataset family needs and where they usually live.

    Attributes:
        key: Folder name in the user cache; downloads go to ``cache_dir() / key``.
        folders: Sub-folders tried, in order, under the data root, ``$SNN_DATA`` and the
            cache; ``""`` means the folder itself.
        files: Required entries; each is a tuple of accepted names (e.g. with and without
            ``.gz``), the first present one is used.
        system: Absolute folders of system-wide copies, tried last.
        hint: How to get the data, shown when it is not found; ``{cache}`` is replaced by
            the cache folder for this dataset.
        fetch: Downloads the files into the folder it is given, or ``None`` when the data
            cannot be downloaded (licensed datasets).
    """

    key: str
    folders: tuple[str, ...]
    files: tuple[tuple[str, ...], ...]
    system: tuple[Path, ...] = ()
    hint: str = ""
    fetch: Callable[[Path], None] | None = None

    def resolve(self, folder: Path) -> list[Path] | None:
        """Returns the path of each required entry in ``folder``, or ``None`` if one is missing."""
        found = []
        for names in self.files:
            path = next((folder / n for n in names if (folder / n).exists()), None)
            if path is None:
                return None
            found.append(path)
        return found


def cache_dir() -> Path:
    """The user cache for datasets: ``$XDG_CACHE_HOME/snncli/data``, else ``~/.cache/snncli/data``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "snncli" / "data"


def _env_roots() -> list[Path]:
    value = os.environ.get(ENV_VAR, "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def candidate_folders(spec: FileSpec, root: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """Every folder that may hold ``spec``'s files, in search order, each with its origin.

    Args:
        spec: The dataset family's file description.
        root: The user-given data root, if any.

    Returns:
        ``(folder, origin)`` pairs without duplicates; origin is one of ``"data root"``,
        ``"$SNN_DATA"``, ``"user cache"``, ``"system copy"``.
    """
    pairs: list[tuple[Path, str]] = []
    if root is not None:
        base = Path(root).expanduser()
        pairs += [(base / sub, "data root") for sub in spec.folders]
    for base in _env_roots():
        pairs += [(base / sub, f"${ENV_VAR}") for sub in spec.folders]
    cache = cache_dir()
    pairs += [(cache / sub, "user cache") for sub in spec.folders if sub]
    pairs += [(folder, "system copy") for folder in spec.system]
    seen: set[Path] = set()
    unique = []
    for folder, origin in pairs:
        if folder not in seen:
            seen.add(folder)
            unique.append((folder, origin))
    return unique


def locate(
    name: str,
    spec: FileSpec,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
    on_download: Callable[[str], None] | None = None,
) -> Path:
    """Finds the folder holding ``spec``'s files, downloading them into the cache if allowed.

    Args:
        name: Dataset name, for messages.
        spec: What to look for.
        root: User-given data root (must already be validated to exist).
        download: Whether to try the mirrors when no local copy is found.
        on_download: Called with a one-line message before a download starts, so the
            caller can tell the user why it is waiting.

    Returns:
        The first folder, in search order, that holds every required file.

    Raises:
        DatasetNotFoundError: No folder holds the files and downloading was disabled,
            impossible or failed. The message lists every folder looked in.
    """
    places = candidate_folders(spec, root)
    for folder, _ in places:
        if spec.resolve(folder) is not None:
            return folder

    target = cache_dir() / spec.key
    failure = None
    if download and spec.fetch is not None:
        if on_download is not None:
            on_download(f"downloading {name} into {target}")
        try:
            spec.fetch(target)
        except (OSError, ValueError) as exc:  # network, disk, checksum or archive problems
            failure = str(exc)
        else:
            for folder, origin in places:
                if origin == "user cache" and spec.resolve(folder) is not None:
                    return folder
            failure = f"download finished but {target} still lacks the files"

    lines = [f"dataset '{name}' not found; looked in:"]
    lines += [f"  {folder}  ({origin})" for folder, origin in places]
    if failure is not None:
        lines.append(f"download failed: {failure}")
    elif not download and spec.fetch is not None:
        lines.append("downloading was disabled")
    if spec.hint:
        lines.append("to get it: " + spec.hint.format(cache=target))
    lines.append(f"or point ${ENV_VAR} or the data root at a folder that holds them")
    raise DatasetNotFoundError("\n".join(lines), dataset=name, places=tuple(f for f, _ in places))
