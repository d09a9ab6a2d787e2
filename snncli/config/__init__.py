"""Pydantic models, one per command: every option is validated here before any work starts.

The names below are imported from their modules when first used (PEP 562), so that a command imports
the configs it needs and no other (``snn train --help`` builds no analysis or sweep models).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AnalyzeConfig": "analysis", "AttackConfig": "analysis", "GradflowConfig": "analysis", "HessianConfig": "analysis",
    "LandscapeConfig": "analysis", "VisualizeConfig": "analysis",
    "ConfigFileError": "base", "StrictModel": "base", "describe_validation_error": "base", "load_config_file": "base",
    "CrossvalConfig": "crossval", "ExportConfig": "export", "BackboneConfig": "backbone",
    "from_seed_format": "seedformat", "is_seed_format": "seedformat",
    "SummaryConfig": "sweep", "SweepConfig": "sweep", "load_grid_file": "sweep", "parse_grid_option": "sweep",
    "TrainConfig": "train",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .analysis import AnalyzeConfig, AttackConfig, GradflowConfig, HessianConfig, LandscapeConfig, VisualizeConfig
    from .backbone import BackboneConfig
    from .base import ConfigFileError, StrictModel, describe_validation_error, load_config_file
    from .crossval import CrossvalConfig
    from .export import ExportConfig
    from .seedformat import from_seed_format, is_seed_format
    from .sweep import SummaryConfig, SweepConfig, load_grid_file, parse_grid_option
    from .train import TrainConfig

__all__ = sorted(_WHERE)
