"""Provenance: what produced a run, recorded beside its numbers so that two runs can be compared honestly.

:func:`provenance` goes into ``result.json`` and every checkpoint (key ``"provenance"``): package
versions, Python, the CPU model and the device's name, the command line, and the git revision of
the snncli source when it runs from a checkout. Nothing here raises: a fact that cannot be read is
recorded as ``None``.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

#: Distributions whose versions change a run's numbers or speed (optional ones are ``None`` when absent).
PACKAGES = ("snncli", "torch", "snntorch", "numpy", "pydantic", "typer", "torchvision", "torchattacks",
            "pyhessian", "nir", "nirtorch", "triton", "ray")

_SOURCE = Path(__file__).resolve().parents[2]  # the folder holding the snncli package


def _version(dist: str) -> str | None:
    if dist == "snncli":  # the running source's version (an editable or PYTHONPATH checkout may differ from metadata)
        from .._version import __version__

        return __version__
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def cpu_model() -> str | None:
    """The CPU's model name (``lscpu``'s "Model name"), or ``platform.processor()`` off Linux."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def device_name(device: torch.device | str | None) -> str | None:
    """A readable name of ``device``: the GPU's model for CUDA, the CPU model for the CPU."""
    if device is None:
        return None
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return torch.cuda.get_device_name(device)
        except (RuntimeError, AssertionError, ValueError):
            return None
    if device.type == "cpu":
        return cpu_model()
    return device.type


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(_SOURCE), *args], capture_output=True, text=True, timeout=5,
                             env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@lru_cache(maxsize=1)
def git_revision() -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the checkout snncli runs from; ``None`` for an installed copy.

    ``dirty`` is true when tracked files differ from the commit (untracked files are not counted).
    """
    if not (_SOURCE / ".git").exists():  # a folder (clone) or a file (worktree); absent in site-packages
        return None
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def command_line(argv: list[str] | None = None) -> str:
    """The command line as a shell would re-run it (program name shortened to its file name)."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        argv[0] = Path(argv[0]).name
    return shlex.join(argv)


def provenance(device: torch.device | str | None = None) -> dict[str, Any]:
    """Everything that produced a run but is not one of its settings.

    Args:
        device: the device the run used (its name is recorded).

    Returns:
        ``{"packages": {dist: version|None}, "python", "platform", "cpu", "device", "device_name",
        "threads", "command", "environment" (the SNN_* variables, which set options too), "cwd", "git"}``.
    """
    return {
        "packages": {dist: _version(dist) for dist in PACKAGES},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "device": str(device) if device is not None else None,
        "device_name": device_name(device),
        "threads": torch.get_num_threads(),
        "command": command_line(),
        "environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("SNN_")},  # options set by SNN_*
        "cwd": os.getcwd(),
        "git": git_revision(),
    }
