"""Pydantic models, one per command: every option is validated here before any work starts."""

from .analysis import AnalyzeConfig, AttackConfig, GradflowConfig, HessianConfig, LandscapeConfig, VisualizeConfig
from .base import ConfigFileError, StrictModel, describe_validation_error, load_config_file
from .crossval import CrossvalConfig
from .backbone import BackboneConfig
from .train import TrainConfig

__all__ = [
    "AnalyzeConfig", "AttackConfig", "GradflowConfig", "HessianConfig", "LandscapeConfig", "VisualizeConfig",
    "BackboneConfig", "ConfigFileError", "CrossvalConfig", "StrictModel", "TrainConfig", "describe_validation_error", "load_config_file"]
