"""Loading a command line's config in two steps, so that a mistake answers before torch loads:
first every value that needs no implementation (:func:`timesformer.utils.parser.read_config`,
no torch), then, with the implementations loaded (the engine, which registers them all: torch
loads here), the values they register, the devices and the memory.
"""

import argparse
import os

from fvcore.common.config import CfgNode

from timesformer.config.checks import ConfigError, assert_and_infer_cfg
from timesformer.utils.launcher_environment import LauncherEnvironment
from timesformer.utils.logging import get_logger
from timesformer.utils.parser import read_config, split_items

logger = get_logger(__name__)


def load_command_config(
    args: argparse.Namespace,
    check_devices: bool = True,
    environment: LauncherEnvironment | None = None,
) -> CfgNode:
    """:func:`timesformer.utils.parser.load_config`, with the values that need no implementation
    checked before the implementations (and torch) load.

    Raises:
        ConfigError: naming the file or key at fault.
    """
    cfg = read_config(args, environment)
    import timesformer.engine  # noqa: F401  (registers every implementation; loads torch)

    return assert_and_infer_cfg(cfg, check_devices=check_devices)


def load_tool_config(args: argparse.Namespace) -> tuple[CfgNode, list[str]]:
    """(config from ``--cfg`` and the trailing overrides, the paths before the overrides), for the
    single-process tools (predict, extract_features, export...).

    They run on one device: the first GPU when NUM_GPUS > 0 and CUDA is there, else
    the CPU (NUM_GPUS becomes 0). They load a full checkpoint into a model built by
    ``build_bare_model``, which never reads TIMESFORMER.PRETRAINED_MODEL's ImageNet weights.

    Raises:
        ConfigError: a mistake in the config, or an option written after the paths.
    """
    paths, overrides = split_items(args.opts)
    misplaced = [
        path for path in paths if path.startswith("-") and path != "-" and not os.path.exists(path)
    ]  # "-": standard input
    if misplaced:
        raise ConfigError(
            f"{misplaced[0]} is an option: put options before the paths and KEY VALUE overrides "
            "(everything after the first path is read as paths and overrides)."
        )
    namespace = argparse.Namespace(cfg_file=args.cfg_file, opts=overrides)
    cfg = load_command_config(namespace, check_devices=False)
    import torch  # loaded with the implementations already

    if cfg.NUM_GPUS > 0 and not torch.cuda.is_available():
        logger.warning(
            "NUM_GPUS is %d but CUDA is not available; running on the CPU.", cfg.NUM_GPUS
        )
        cfg.NUM_GPUS = 0
    return cfg, paths
