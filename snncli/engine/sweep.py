"""Grid sweeps: the cartesian product of settings over a base config, one resumable run per point.

Point ``k1=v1, k2=v2`` trains in ``{out}/k1=v1_k2=v2/{run_name}/``, so any settings can vary
(even ones the run name does not show). A combination the config refuses (STBP without
spiking, say) is skipped as invalid with the reason; a finished point (``.DONE``) is skipped
without starting a worker; a point that fails is reported and the others still run.
:func:`summarize` collects every run below a folder into one table.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from ..config import ConfigFileError, TrainConfig, describe_validation_error
from .executors import require_ray, run_tasks
from .runs import find_runs
from .trainer import Callbacks, run_paths, train
from .writers import write_csv, write_json

#: Result fields a sweep point reports (and the summary table shows).
RESULT_KEYS = ("status", "test_acc", "val_acc", "best_val_acc", "train_acc", "test_loss", "samples_per_s", "time_s", "run_dir")
#: Settings that never distinguish runs in a summary.
NOT_SETTINGS = {"out", "force", "data_root", "device", "backbone"}


def value_label(value: Any) -> str:
    """A grid value as it appears in folder names and tables: ``true``, ``0.1``, ``2-1``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "-".join(value_label(v) for v in value)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(value).replace(":", "-"))


def expand(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, first axis slowest."""
    keys = list(axes)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(axes[k] for k in keys))]


def point_name(point: dict[str, Any]) -> str:
    return "_".join(f"{k}={value_label(v)}" for k, v in point.items()) or "base"


def plan(base: dict[str, Any], axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Validate every point: ``{"point", "name", "cfg" | "reason", "status"}`` with status ``todo``, ``done`` or ``invalid``."""
    root = Path(base.get("out") or TrainConfig.model_fields["out"].default)
    planned = []
    for point in expand(axes):
        name = point_name(point)
        entry: dict[str, Any] = {"point": point, "name": name}
        try:
            cfg = TrainConfig(**{**base, **point, "out": root / name})
        except ValidationError as exc:
            entry.update(status="invalid", reason=describe_validation_error(exc))
            planned.append(entry)
            continue
        paths = run_paths(cfg)
        finished = paths.done.exists() and paths.result.exists() and not cfg.force
        entry.update(cfg=cfg, status="done" if finished else "todo")
        planned.append(entry)
    return planned


def run_point(cfg_json: str, threads: int | None = None) -> dict[str, Any]:
    """Train one point (also the entry point of worker processes and Ray tasks)."""
    cfg = TrainConfig.model_validate_json(cfg_json)
    if cfg.threads is None and threads:  # recorded in the point's config.json
        cfg = cfg.model_copy(update={"threads": threads})
    result = train(cfg, Callbacks())
    return {k: result.get(k) for k in RESULT_KEYS}


def run_sweep(
    base: dict[str, Any],
    axes: dict[str, list[Any]],
    jobs: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    cpus_per_run: int = 1,
    on_point: Callable[[dict[str, Any]], None] = lambda row: None,
) -> dict[str, Any]:
    """Train every valid, unfinished point of the grid and write ``sweep.json`` in the sweep folder.

    Args:
        base: settings shared by every point (as ``TrainConfig`` keys; ``out`` is the sweep folder).
        axes: setting -> the values it takes.
        jobs, executor, ray_address, cpus_per_run: see :func:`snncli.engine.executors.run_tasks`.
        on_point: called with each point's row as it is decided (invalid, done) or ends.

    Returns:
        ``{"dir", "axes", "points": [...], "failed": [...], "invalid": [...]}``; every point row has
        ``name``, the point's values, ``status`` (finished, skipped, invalid, failed) and its results.

    Raises:
        ConfigFileError: every point is invalid (nothing is written).
    """
    if executor == "ray":
        require_ray()  # before anything is written
    root = Path(base.get("out") or TrainConfig.model_fields["out"].default)
    planned = plan(base, axes)
    if all(e["status"] == "invalid" for e in planned):  # a bad base, not a bad corner of the grid
        raise ConfigFileError(f"every point of the grid is invalid; {planned[0]['name']}: {planned[0]['reason']}")
    rows: dict[str, dict[str, Any]] = {}
    for entry in planned:
        row = {"name": entry["name"], **{k: value_label(v) for k, v in entry["point"].items()}}
        if entry["status"] == "invalid":
            row.update(status="invalid", reason=entry["reason"])
            on_point(row)
        elif entry["status"] == "done":
            result = json.loads(run_paths(entry["cfg"]).result.read_text())
            row.update({k: result.get(k) for k in RESULT_KEYS}, status="skipped")
            on_point(row)
        rows[entry["name"]] = row
    todo = {e["name"]: (e["cfg"].model_dump_json(),) for e in planned if e["status"] == "todo"}

    def done(name, result, failure):
        row = rows[name]
        row.update(result if failure is None else {"status": "failed", **failure})
        on_point(row)

    root.mkdir(parents=True, exist_ok=True)
    run_tasks(run_point, todo, jobs=jobs, executor=executor, ray_address=ray_address,
              cpus_per_task=cpus_per_run, on_done=done)
    points = [rows[e["name"]] for e in planned]
    report = {
        "dir": str(root), "axes": {k: [value_label(v) for v in vs] for k, vs in axes.items()},
        "points": points,
        "failed": [p for p in points if p["status"] == "failed"],
        "invalid": [p for p in points if p["status"] == "invalid"],
    }
    write_json(root / "sweep.json", {**report, "base": base})
    return report


def _last_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return {}
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def summarize(folder: Path) -> dict[str, Any]:
    """One row per run below ``folder``: the settings that differ between runs, and the final results.

    The columns of settings follow the sweep's axes when ``folder`` holds a ``sweep.json``, else
    every setting that takes more than one value. Unfinished runs appear with their last epoch.
    Flex runs also show the last epoch's conv ratio and binariness (ours and the seed's), averaged over their Flex layers.

    Returns:
        ``{"dir", "settings": [...], "columns": [...], "rows": [...]}``.
    """
    folder = Path(folder)
    runs = []
    for run_dir in find_runs(folder):
        config = json.loads((run_dir / "config.json").read_text())
        result_file = run_dir / "result.json"
        result = json.loads(result_file.read_text()) if result_file.is_file() else {}
        last = _last_metrics(run_dir)
        flex_ratio = [v for k, v in last.items() if re.fullmatch(r"flex\d+_conv_ratio", k)]
        flex_bin = [v for k, v in last.items() if re.fullmatch(r"flex\d+_binariness", k)]
        flex_seed_bin = [v for k, v in last.items() if re.fullmatch(r"flex\d+_seed_binariness", k)]
        runs.append({
            "config": config,
            "results": {
                "status": "finished" if (run_dir / ".DONE").exists() else "unfinished",
                "epochs": last.get("epoch"),
                "test_acc": result.get("test_acc", last.get("test_acc")),
                "val_acc": result.get("val_acc", last.get("val_acc")),
                "train_acc": result.get("train_acc", last.get("train_acc")),
                "conv_ratio": round(sum(flex_ratio) / len(flex_ratio), 4) if flex_ratio else None,
                "binariness": round(sum(flex_bin) / len(flex_bin), 4) if flex_bin else None,
                "seed_binariness": round(sum(flex_seed_bin) / len(flex_seed_bin), 4) if flex_seed_bin else None,
                "samples_per_s": result.get("samples_per_s", last.get("samples_per_s")),
                "run": str(run_dir.relative_to(folder)),
            },
        })
    sweep_file = folder / "sweep.json"
    axes = list(json.loads(sweep_file.read_text()).get("axes", {})) if sweep_file.is_file() else []
    varying = [
        k for k in (runs[0]["config"] if runs else {})
        if k not in NOT_SETTINGS and len({json.dumps(r["config"].get(k)) for r in runs}) > 1
    ]
    settings = [k for k in axes if k in varying] + [k for k in varying if k not in axes]
    rows = [{**{k: value_label(r["config"].get(k)) for k in settings}, **r["results"]} for r in runs]
    columns = settings + [c for c in (rows[0] if rows else {}) if c not in settings]
    return {"dir": str(folder), "settings": settings, "columns": columns, "rows": rows}


def write_summary_csv(summary: dict[str, Any], path: Path) -> None:
    write_csv(path, summary["rows"], summary["columns"])
