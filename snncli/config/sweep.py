"""Configuration of ``snn sweep``: the grid (axes), where points run, and the summary's chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from .base import ConfigFileError, StrictModel, load_config_file
from .seedformat import RENAMED, from_seed_format
from .train import TrainConfig


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
    data = load_config_file(path)
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
    """The axes of the grid and how its points are scheduled."""

    grid: dict[str, list[Any]] = Field(description="Setting -> the values it takes (an axis); the grid is their cartesian product.")
    jobs: int = Field(1, ge=1, description="Points trained at once, each in its own process.")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where points run: local processes, or Ray tasks (pip install 'snncli[ray]')."
    )
    ray_address: str | None = Field(None, description="Ray cluster to join (e.g. auto); default: a local Ray instance.")
    cpus_per_run: int = Field(1, ge=1, description="With Ray: CPUs each point's task reserves (and torch threads it uses).")

    @field_validator("grid")
    @classmethod
    def _known_settings(cls, axes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if not axes:
            raise ValueError("no grid: give a grid file or --grid KEY=V1,V2")
        for key, values in axes.items():
            if key not in TrainConfig.model_fields or key in ("out", "force"):
                raise ValueError(f"unknown setting {key!r} (grid keys are `snn train` settings)")
            if not values:
                raise ValueError(f"{key}: no values")
        return axes


class SummaryConfig(StrictModel):
    """What ``snn sweep summarize`` reads and how it draws the chart."""

    dir: Path = Field(description="Folder holding the runs (a sweep's --out).")
    x: list[str] | None = Field(None, description="Settings that make the chart's groups (default: every varying setting but the last).")
    hue: str | None = Field(None, description="Setting that colours the bars within a group (default: the last varying setting).")
    metric: Literal["test_acc", "val_acc", "train_acc"] = Field("test_acc", description="Value the bars show.")

    @field_validator("dir")
    @classmethod
    def _exists(cls, v: Path) -> Path:
        if not v.is_dir():
            raise ValueError(f"folder does not exist: {v}")
        return v
