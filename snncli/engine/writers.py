"""Everything snn writes, each file written atomically (:mod:`snncli.atomic`): replaced whole or not at
all, with the mode the umask gives, and a full disk reported as one line with the previous file intact.

JSON is always valid JSON: a non-finite number (NaN, inf) is written as ``null`` and its place is listed
under ``"non_finite"`` (:func:`json_text`), never as the bare ``NaN`` that JSON parsers refuse.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
from pathlib import Path
from typing import Any, Sequence

from ..atomic import atomic_file, clean_stale_temps, write_bytes_atomic  # noqa: F401  (re-exported)

NON_FINITE_KEY = "non_finite"


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so readers never see a half-written file."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_torch(path: Path, obj: Any) -> None:
    """``torch.save(obj)`` to ``path``, atomically (state dicts and other tensor files).

    Serialised in memory first, so a full disk is an ``OSError`` of the write (one line), not an error
    from inside torch's zip writer, and no half-written archive is ever renamed into place.
    """
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    write_bytes_atomic(path, buf.getbuffer())


def write_npz(path: Path, **arrays: Any) -> None:
    """``numpy.savez`` of ``arrays`` to ``path``, atomically."""
    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getbuffer())


def finite_json(obj: Any, where: str = "") -> tuple[Any, list[str]]:
    """``obj`` with every non-finite float replaced by ``None``, and the places replaced (``a.b[2]``)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj, []
    if isinstance(obj, numbers.Real) and not isinstance(obj, numbers.Integral):
        value = float(obj)
        return (value, []) if math.isfinite(value) else (None, [where or "."])
    if isinstance(obj, dict):
        out, flagged = {}, []
        for k, v in obj.items():
            out[k], f = finite_json(v, f"{where}.{k}" if where else str(k))
            flagged += f
        return out, flagged
    if isinstance(obj, (list, tuple)):
        items = [finite_json(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return [v for v, _ in items], [p for _, f in items for p in f]
    return obj, []


def json_text(obj: Any, indent: int | None = 2) -> str:
    """``obj`` as valid JSON: non-finite numbers as ``null``, listed under ``"non_finite"`` (a mapping's key)."""
    clean, flagged = finite_json(obj)
    if flagged and isinstance(clean, dict):
        clean = {**clean, NON_FINITE_KEY: flagged}
    return json.dumps(clean, indent=indent, default=str, allow_nan=False)


def write_json(path: Path, obj: Any) -> None:
    write_text_atomic(path, json_text(obj) + "\n")


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
    write_text_atomic(path, "".join(json_text(r, indent=None) + "\n" for r in rows))


def write_marker(path: Path) -> None:
    """An empty file whose presence means something (``.DONE``)."""
    write_bytes_atomic(path, b"")
