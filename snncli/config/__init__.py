"""Pydantic models, one per command: every option is validated here before any work starts."""

from .analysis import AnalyzeConfig, AttackConfig, GradflowConfig, HessianConfig, LandscapeConfig, VisualizeConfig
from .base import ConfigFileError, StrictModel, describe_validation_error, load_config_file
from .crossval import CrossvalConfig
from .export import ExportConfig
from .backbone import BackboneConfig
from .seedformat import from_seed_format, is_seed_format
from .sweep import SummaryConfig, SweepConfig, load_grid_file, parse_grid_option
from .train import TrainConfig

__all__ = [
    "AnalyzeConfig", "AttackConfig", "BackboneConfig", "ConfigFileError", "CrossvalConfig", "ExportConfig", "GradflowConfig",
    "HessianConfig", "LandscapeConfig", "StrictModel", "SummaryConfig", "SweepConfig", "TrainConfig", "VisualizeConfig",
    "describe_validation_error", "from_seed_format", "is_seed_format", "load_config_file", "load_grid_file",
    "parse_grid_option",
]
