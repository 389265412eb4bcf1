"""Command lines of the inference tools: ``--cfg FILE [options] ITEM... [KEY VALUE...]``.

The tools take files (videos) followed by config overrides; an item that is not
an existing path and is spelled like a config key (``NUM_GPUS``,
``DATA.NUM_FRAMES``) starts the overrides.
"""

import argparse
import logging
import os
import re
import sys

import torch
from fvcore.common.config import CfgNode

from timesformer.utils.logging import get_logger
from timesformer.utils.parser import load_config

logger = get_logger(__name__)

_CONFIG_KEY = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)*$")


def tool_arg_parser(description: str, items_metavar: str | None = "VIDEO") -> argparse.ArgumentParser:
    """A parser with ``--cfg`` and the trailing ``ITEM... [KEY VALUE...]`` (after all options).

    ``items_metavar`` None: the tool takes no files, only config overrides.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cfg", dest="cfg_file", default=None, help="YAML config file of the model.")
    metavar = f"{items_metavar}... [KEY VALUE...]" if items_metavar else "KEY VALUE"
    help_text = f"{items_metavar} paths, then config overrides" if items_metavar else "config overrides"
    parser.add_argument("items", nargs=argparse.REMAINDER, metavar=metavar, help=f"{help_text} (after all options).")
    return parser


def split_items(items: list[str]) -> tuple[list[str], list[str]]:
    """(paths, overrides): overrides start at the first item spelled like a config key that is no file."""
    for position, item in enumerate(items):
        if _CONFIG_KEY.match(item) and not os.path.exists(item):
            return items[:position], items[position:]
    return list(items), []


def load_tool_config(args: argparse.Namespace) -> tuple[CfgNode, list[str]]:
    """(config from ``--cfg`` and the trailing overrides, the paths before the overrides).

    The tools run on one device: the first GPU when NUM_GPUS > 0 and CUDA is
    there, else the CPU (NUM_GPUS becomes 0). TIMESFORMER.PRETRAINED_MODEL is
    cleared, since the tools load a full checkpoint.
    """
    paths, overrides = split_items(args.items)
    cfg = load_config(argparse.Namespace(cfg_file=args.cfg_file, opts=overrides), check_devices=False)
    cfg.TIMESFORMER.PRETRAINED_MODEL = ""
    if cfg.NUM_GPUS > 0 and not torch.cuda.is_available():
        logger.warning("NUM_GPUS is %d but CUDA is not available; running on the CPU.", cfg.NUM_GPUS)
        cfg.NUM_GPUS = 0
    return cfg, paths


def setup_tool_logging() -> None:
    """Log INFO lines to stderr, keeping stdout for the tool's results."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="[%(asctime)s][%(levelname)s] %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
