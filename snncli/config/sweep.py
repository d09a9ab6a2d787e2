"""Configuration of ``snn sweep``: the grid (axes), where points run, and the summary's chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator

from .base import ConfigFileError, StrictModel, load_config_file
from .fields import unusable_dir
from .seedformat import RENAMED, from_seed_format
from .setting import setting
from .train import TrainConfig

SW = "Sweep"


def setting_name(key: str) -> str:
    """A grid key as a ``TrainConfig`` field: ``-`` as ``_``, the seed's names renamed (``mask_type``...)."""
    key = key.strip().replace("-", "_")
    return RENAMED.get(key, key)


def parse_grid_option(text: str) -> tuple[str, list[str]]:
    """``"spiking=true,false"`` -> ``("spiking", ["true", "false"])`` (values are validated per point)."""
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise ConfigFileError(f"--grid: expected KEY=V1,V2,... (got {text!r})")
    return setting_name(key), [v.strip() for v in values.split(",") if v.strip()]


def load_grid_file(path: Path) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """A grid file: ``{"base": {settings}, "grid": {setting: [values]}}`` (JSON, YAML or TOML).

    ``base`` may be a PlasticFlex seed config. Returns ``(base, axes)``.
    """
    data = load_config_file(path, option="GRID_FILE")
    unknown = set(data) - {"base", "grid"}
    if unknown:
        raise ConfigFileError(f"{path}: a grid file holds 'base' and 'grid' only (found {', '.join(sorted(unknown))})")
    base, grid = data.get("base") or {}, data.get("grid")
    if not isinstance(base, dict) or not isinstance(grid, dict) or not grid:
        raise ConfigFileError(f"{path}: 'grid' must map settings to lists of values, and 'base' (optional) settings to values")
    axes = {}
    for key, values in grid.items():
        if not isinstance(values, list):
            values = [values]
        axes[setting_name(str(key))] = values
    return from_seed_format(base), axes


class SweepConfig(StrictModel):
    """The base setting and axes of a grid, and how its points are scheduled.

    The axes are the grid file's, then each ``--grid`` (which adds an axis or replaces the file's);
    the base is the grid file's ``base`` under the values the caller gives (``--config``, flags).
    """

    grid_file: Path | None = setting(
        None, 'JSON/YAML/TOML file: {"base": {settings}, "grid": {setting: \\[values]}}.', argument=True,
        metavar="[GRID_FILE]",
    )
    grid: list[str] = setting(
        default_factory=list, help="An axis KEY=V1,V2,... (repeatable; adds to or replaces the file's axes).",
        panel=SW, short="-g",
    )
    base: dict[str, Any] = setting(default_factory=dict, help="Settings every point shares.", cli=False)
    axes: dict[str, list[Any]] = setting(default_factory=dict, help="Setting -> the values it takes.", cli=False)
    jobs: int = setting(1, "Points trained at once, each in its own process.", panel=SW, short="-j", ge=1, le=256)
    executor: Literal["local", "ray"] = setting(
        "local", "Where points run: local processes, or Ray tasks (pip install 'snncli[ray]').", panel=SW,
    )
    ray_address: str | None = setting(None, "Ray cluster to join (e.g. auto); default: a local Ray instance.", panel=SW)
    cpus_per_run: int = setting(1, "With Ray: CPUs each point's task reserves (and torch threads it uses).", panel=SW, ge=1,
                                le=1024)

    def plan(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """``(base, axes)``: the grid file's base under ``base``; its axes, then ``--grid``'s, then ``axes``.

        Raises:
            ConfigFileError: an unreadable grid file, a malformed ``--grid``, no axes, an axis that is
                not an ``snn train`` setting or has no values.
        """
        file_base, axes = load_grid_file(self.grid_file) if self.grid_file else ({}, {})
        for text in self.grid:
            key, values = parse_grid_option(text)
            axes[key] = values
        axes.update(self.axes)
        if not axes:
            raise ConfigFileError("--grid: no grid: give a grid file or --grid KEY=V1,V2")
        for key, values in axes.items():
            if key not in TrainConfig.model_fields or key in ("out", "force"):
                raise ConfigFileError(f"--grid: unknown setting {key!r} (grid keys are `snn train` settings)")
            if not values:
                raise ConfigFileError(f"--grid: {key}: no values")
        base = {k: str(v) if isinstance(v, Path) else v for k, v in {**file_base, **self.base}.items()}
        return base, axes


class SummaryConfig(StrictModel):
    """What ``snn sweep summarize`` reads and how it draws the chart."""

    dir: Path = setting(..., "Folder holding the runs (a sweep's --out).", argument=True)
    x: list[str] | None = setting(
        None, "Setting(s) that make the chart's groups (repeatable; default: every varying setting but the hue).",
    )
    hue: str | None = setting(None, "Setting that colours the bars in a group (default: the last varying setting).")
    metric: Literal["test_acc", "val_acc", "train_acc"] = setting("test_acc", "Value the bars show.")

    @field_validator("dir")
    @classmethod
    def _exists(cls, v: Path) -> Path:
        if not v.is_dir():
            raise ValueError(f"folder does not exist: {v}")
        problem = unusable_dir(v)  # summary.csv and summary.png go there
        if problem:
            raise ValueError(problem)
        return v
