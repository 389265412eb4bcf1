"""Configuration: the default tree, its checks, and loading from YAML + overrides."""

from timesformer.config.checks import ConfigError, assert_and_infer_cfg
from timesformer.config.defaults import get_cfg

__all__ = ["ConfigError", "assert_and_infer_cfg", "get_cfg"]
