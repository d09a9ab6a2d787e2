"""``snn sweep``: grid sweeps, the cartesian product of settings over a base config, one resumable run per point.

Point ``k1=v1, k2=v2`` trains in ``{out}/k1=v1_k2=v2/{run_name}/``, so any settings can vary
(even ones the run name does not show). A combination the config refuses (STBP without
spiking, say) is skipped as invalid with the reason; a finished point (``.DONE``) is skipped
without starting a worker; a point that fails is reported and the others still run.
:func:`summarize` collects every run below a folder into one table.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any, TypedDict

from pydantic import ValidationError

from ..config import ConfigFileError, SummaryConfig, SweepConfig, TrainConfig, describe_validation_error
from ..config.setting import identity_fields
from ..engine.callbacks import Callbacks
from ..engine.executors import in_process, require_ray, run_tasks, task_gpus
from ..engine.health import health_label
from ..engine.locks import RunLock
from ..engine.runs import BrokenFileError, find_runs, read_json, read_json_object, run_paths
from ..engine.trainer import is_finished, train
from ..engine.writers import write_csv, write_json
from .common import JobCallbacks, training_progress

_SUMMARY_HINT = "fix or remove it (or its run folder), then summarise again"

#: Result fields a sweep point reports (and the summary table shows).
RESULT_KEYS = ("status", "test_acc", "val_acc", "best_val_acc", "train_acc", "test_loss", "samples_per_s", "time_s", "run_dir",
               "health")


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
        entry.update(cfg=cfg, status="done" if is_finished(cfg) else "todo")
        planned.append(entry)
    return planned


def run_point(cfg_json: str, callbacks: Callbacks | None = None, threads: int | None = None) -> dict[str, Any]:
    """Train one point (also the entry point of worker processes and Ray tasks, which report no progress)."""
    cfg = TrainConfig.model_validate_json(cfg_json)
    if cfg.threads is None and threads:  # recorded in the point's config.json
        cfg = cfg.model_copy(update={"threads": threads})
    result = train(cfg, callbacks or Callbacks())
    return {k: result.get(k) for k in RESULT_KEYS}


class SweepReport(TypedDict):
    """What ``snn sweep`` returns (and writes to ``sweep.json``, with the base settings)."""

    dir: str
    axes: dict[str, list[str]]
    points: list[dict[str, Any]]  # name, the point's values, status, results
    failed: list[dict[str, Any]]
    invalid: list[dict[str, Any]]


def run_sweep(cfg: SweepConfig, callbacks: JobCallbacks | None = None) -> SweepReport:
    """``snn sweep``: train every valid, unfinished point of the grid and write ``sweep.json`` in the sweep folder.

    ``cfg.plan()`` gives the base settings (``out`` is the sweep folder) and the axes; ``jobs``,
    ``executor``, ``ray_address`` and ``cpus_per_run`` schedule the points
    (:func:`snncli.engine.executors.run_tasks`); ``callbacks.on_item`` gets each point's row as it
    is decided (invalid, done) or ends.

    Returns:
        ``{"dir", "axes", "points": [...], "failed": [...], "invalid": [...]}``; every point row has
        ``name``, the point's values, ``status`` (finished, skipped, invalid, failed) and its results.

    Raises:
        ConfigFileError: a bad grid, or every point is invalid (nothing is written).
    """
    cb = callbacks or JobCallbacks()
    base, axes = cfg.plan()
    if cfg.executor == "ray":
        require_ray()  # before anything is written
    root = Path(base.get("out") or TrainConfig.model_fields["out"].default)
    parallel_points = "nproc" in axes or int(base.get("nproc") or 1) > 1
    if parallel_points and (cfg.jobs > 1 or cfg.executor == "ray"):
        raise ConfigFileError("--nproc: data-parallel points run one at a time, in this process's workers; "
                              "use --nproc or --jobs/--executor ray, not both")
    planned = plan(base, axes)
    if all(e["status"] == "invalid" for e in planned):  # a bad base, not a bad corner of the grid
        raise ConfigFileError(f"every point of the grid is invalid; {planned[0]['name']}: {planned[0]['reason']}")
    rows: dict[str, dict[str, Any]] = {}
    for entry in planned:
        row = {"name": entry["name"], **{k: value_label(v) for k, v in entry["point"].items()}}
        if entry["status"] == "invalid":
            row.update(status="invalid", reason=entry["reason"])
            cb.on_item(row)
        elif entry["status"] == "done":
            result = read_json_object(run_paths(entry["cfg"]).result)
            row.update({k: result.get(k) for k in RESULT_KEYS}, status="skipped")
            cb.on_item(row)
        rows[entry["name"]] = row
    todo = {e["name"]: (e["cfg"].model_dump_json(),) for e in planned if e["status"] == "todo"}

    ended = []

    def done(name, result, failure):
        row = rows[name]
        row.update(result if failure is None else {"status": "failed", **failure})
        cb.on_item(row)
        ended.append(name)
        cb.on_progress("points", len(ended), len(todo))

    if in_process(cfg.executor, cfg.jobs, len(todo)):  # one point at a time here: its epochs show too
        epochs = {e["name"]: e["cfg"].epochs for e in planned if e["status"] == "todo"}
        todo = {name: (*args, training_progress(cb, f"point {i}/{len(todo)} {name}", epochs[name]))
                for i, (name, args) in enumerate(todo.items(), start=1)}
    cb.on_progress("points", 0, len(todo))
    with RunLock(root) as lock:  # one sweep in this folder at a time; each point also locks its run folder
        run_tasks(run_point, todo, jobs=cfg.jobs, executor=cfg.executor, ray_address=cfg.ray_address,
                  cpus_per_task=cfg.cpus_per_run,
                  gpus_per_task=task_gpus(str(base.get("device", "auto")), cfg.gpus_per_run), on_done=done)
        points = [rows[e["name"]] for e in planned]
        report = {
            "dir": str(root), "axes": {k: [value_label(v) for v in vs] for k, vs in axes.items()},
            "points": points,
            "failed": [p for p in points if p["status"] == "failed"],
            "invalid": [p for p in points if p["status"] == "invalid"],
        }
        write_json(root / "sweep.json", {**report, "base": base})
        lock.keep_folder()
    return report


def _last_metrics(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return {}
    rows = read_json(path, _SUMMARY_HINT, lines=True)
    last = rows[-1] if rows else {}
    if not isinstance(last, dict):
        raise BrokenFileError(f"{path}: its last line is not a JSON object; {_SUMMARY_HINT}")
    return last


def _number(v: Any) -> float | int | None:
    """A finite number from a run's files, or ``None`` (missing, null, or not a number)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def _mean(values: list[Any]) -> float | None:
    numbers = [v for v in map(_number, values) if v is not None]
    return round(sum(numbers) / len(numbers), 4) if numbers else None


def summarize(folder: Path) -> dict[str, Any]:
    """One row per run below ``folder``: the settings that differ between runs, and the final results.

    The columns of settings follow the sweep's axes when ``folder`` holds a ``sweep.json``, else
    every setting that takes more than one value. Unfinished runs appear with their last epoch.
    Flex runs also show the last epoch's conv ratio and binariness (ours and the seed's), averaged over their Flex layers.

    Returns:
        ``{"dir", "settings": [...], "columns": [...], "rows": [...], "chance"}``; ``chance`` is 1 / classes
        when every run records the same number of classes, else ``None``.
    """
    folder = Path(folder)
    runs, classes = [], set()
    for run_dir in find_runs(folder):
        config = read_json_object(run_dir / "config.json", _SUMMARY_HINT)
        result_file = run_dir / "result.json"
        result = read_json_object(result_file, _SUMMARY_HINT) if result_file.is_file() else {}
        classes.add(result.get("classes"))
        last = _last_metrics(run_dir)
        flex_ratio = [v for k, v in last.items() if re.fullmatch(r"flex\d+_conv_ratio", k)]
        flex_bin = [v for k, v in last.items() if re.fullmatch(r"flex\d+_binariness", k)]
        flex_seed_bin = [v for k, v in last.items() if re.fullmatch(r"flex\d+_seed_binariness", k)]
        runs.append({
            "config": config,
            "results": {
                "status": "finished" if (run_dir / ".DONE").exists() else "unfinished",
                "health": health_label(result.get("health")) if result else "-",
                "epochs": _number(last.get("epoch")),
                "test_acc": _number(result.get("test_acc", last.get("test_acc"))),
                "val_acc": _number(result.get("val_acc", last.get("val_acc"))),
                "train_acc": _number(result.get("train_acc", last.get("train_acc"))),
                "conv_ratio": _mean(flex_ratio),
                "binariness": _mean(flex_bin),
                "seed_binariness": _mean(flex_seed_bin),
                "samples_per_s": _number(result.get("samples_per_s", last.get("samples_per_s"))),
                "run": str(run_dir.relative_to(folder)),
            },
        })
    sweep_file = folder / "sweep.json"
    axes_of_sweep = read_json_object(sweep_file, _SUMMARY_HINT).get("axes", {}) if sweep_file.is_file() else {}
    axes = list(axes_of_sweep) if isinstance(axes_of_sweep, dict) else []
    settings_of_runs = identity_fields(TrainConfig)  # where, how fast and how many threads never distinguish runs
    varying = [
        k for k in (runs[0]["config"] if runs else {})
        if k in settings_of_runs and len({json.dumps(r["config"].get(k)) for r in runs}) > 1
    ]
    settings = [k for k in axes if k in varying] + [k for k in varying if k not in axes]
    rows = [{**{k: value_label(r["config"].get(k)) for k in settings}, **r["results"]} for r in runs]
    columns = settings + [c for c in (rows[0] if rows else {}) if c not in settings]
    chance = 1 / classes.pop() if len(classes) == 1 and None not in classes else None  # one dataset's chance level
    return {"dir": str(folder), "settings": settings, "columns": columns, "rows": rows, "chance": chance}


def write_summary_csv(summary: dict[str, Any], path: Path) -> None:
    write_csv(path, summary["rows"], summary["columns"])


def summarize_sweep(cfg: SummaryConfig, callbacks: JobCallbacks | None = None) -> dict[str, Any]:
    """``snn sweep summarize``: :func:`summarize` ``cfg.dir``, write ``summary.csv`` and the chart ``summary.png``.

    The chart groups bars by ``cfg.x`` (default: every varying setting but the hue) and colours them by
    ``cfg.hue`` (default: the last varying setting, the sweep's axes first).

    Raises:
        ConfigFileError: no runs below ``cfg.dir``, or an ``x``/``hue`` that does not vary there.
    """
    from ..plots.sweep import accuracy_bars

    cb = callbacks or JobCallbacks()
    summary = summarize(cfg.dir)
    if not summary["rows"]:
        raise ConfigFileError(f"{cfg.dir}: no runs (folders with config.json and a checkpoint) below it")
    settings = summary["settings"]
    for key in [*(cfg.x or []), *([cfg.hue] if cfg.hue else [])]:
        if key not in summary["columns"]:
            raise ConfigFileError(f"--x/--hue: {key!r} is not a setting that varies here ({', '.join(settings) or 'none'})")
    hue_key = cfg.hue or (settings[-1] if settings else None)
    group_keys = cfg.x if cfg.x is not None else [k for k in settings if k != hue_key]
    csv_path, png_path = cfg.dir / "summary.csv", cfg.dir / "summary.png"
    write_summary_csv(summary, csv_path)
    title = f"{cfg.metric.replace('_', ' ')} across the grid ({cfg.dir.name})"
    accuracy_bars(summary["rows"], group_keys, hue_key, png_path, value_key=cfg.metric, title=title, chance=summary["chance"])
    cb.on_log(f"wrote {csv_path} and {png_path}")
    return {**summary, "csv": str(csv_path), "figure": str(png_path)}
