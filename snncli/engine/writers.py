"""Everything the engine writes into a run folder, each file written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Sequence


def _write_atomic(path: Path, mode: str, write: Callable[[IO], None]) -> None:
    """Replace ``path`` with what ``write`` puts into a temporary file beside it, so readers never
    see a half-written file and an interrupt leaves the previous version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers never see a half-written file."""
    _write_atomic(path, "w", lambda f: f.write(text))


def write_torch(path: Path, obj: Any) -> None:
    """``torch.save(obj)`` to ``path``, atomically (state dicts and other tensor files)."""
    import torch

    _write_atomic(path, "wb", lambda f: torch.save(obj, f))


def write_npz(path: Path, **arrays: Any) -> None:
    """``numpy.savez`` of ``arrays`` to ``path``, atomically."""
    import numpy as np

    _write_atomic(path, "wb", lambda f: np.savez(f, **arrays))


def write_json(path: Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


def write_metrics(run_dir: Path, history: Sequence[dict[str, Any]]) -> None:
    """``metrics.csv`` and ``metrics.jsonl``: one row per finished epoch, rewritten whole.

    Rewriting from the checkpointed history (instead of appending) means a crash between
    the two writes can never leave a duplicated or missing epoch after resume.
    """
    if not history:
        return
    write_csv(run_dir / "metrics.csv", history)
    write_jsonl(run_dir / "metrics.jsonl", history)


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Rows as CSV, written atomically; ``columns`` default to every key in order of first appearance."""
    if columns is None:
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """One JSON object per line, rewritten whole (from state that was checkpointed)."""
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
