"""Command line of ``tools/run_net.py`` and the tools: arguments and config loading."""

import argparse
import os
import sys

from fvcore.common.config import CfgNode

from timesformer.config.checks import assert_and_infer_cfg
from timesformer.config.defaults import get_cfg
from timesformer.config.merge import merge_overrides, merge_yaml_file

EPILOG = """\
Trailing KEY VALUE pairs override the config, e.g.:
  python tools/run_net.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \\
      DATA.PATH_TO_DATA_DIR /data/kinetics NUM_GPUS 8 TRAIN.BATCH_SIZE 8
"""


def build_arg_parser(description: str = "Train and test TimeSformer models.") -> argparse.ArgumentParser:
    """The arguments every entry point shares; tools may add their own."""
    parser = argparse.ArgumentParser(
        description=description,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--cfg", dest="cfg_file", default=None, help="YAML config file (keys of timesformer/config/defaults.py)."
    )
    parser.add_argument(
        "--init_method",
        default="tcp://localhost:9999",
        help="Rendezvous of the process group, tcp://HOST:PORT of the first machine.",
    )
    parser.add_argument(
        "--shard_id", type=int, default=None, help="Index of this machine (sets SHARD_ID)."
    )
    parser.add_argument(
        "--num_shards", type=int, default=None, help="Number of machines (sets NUM_SHARDS)."
    )
    parser.add_argument(
        "opts",
        default=[],
        nargs=argparse.REMAINDER,
        metavar="KEY VALUE",
        help="Config overrides, applied after the YAML file.",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``--cfg FILE [--init_method URL] [--shard_id N] [--num_shards N] [KEY VALUE ...]``."""
    return build_arg_parser().parse_args(sys.argv[1:] if argv is None else argv)


def load_config(args: argparse.Namespace, check_devices: bool = True) -> CfgNode:
    """Build the run's config: defaults <- ``args.cfg_file`` <- ``args.opts``, then check it.

    ``--shard_id`` / ``--num_shards``, when given, set SHARD_ID / NUM_SHARDS last.
    Raises :class:`timesformer.config.ConfigError` naming the file or key at fault.
    """
    cfg = get_cfg()
    if getattr(args, "cfg_file", None):
        merge_yaml_file(cfg, args.cfg_file)
    merge_overrides(cfg, list(getattr(args, "opts", None) or []))
    if getattr(args, "num_shards", None) is not None:
        cfg.NUM_SHARDS = args.num_shards
    if getattr(args, "shard_id", None) is not None:
        cfg.SHARD_ID = args.shard_id
    return assert_and_infer_cfg(cfg, check_devices=check_devices)


def save_config(cfg: CfgNode, filename: str = "config.yaml") -> str:
    """Write ``cfg`` as YAML to ``OUTPUT_DIR/filename`` (atomically) and return the path."""
    os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
    path = os.path.join(cfg.OUTPUT_DIR, filename)
    partial = path + ".tmp"
    with open(partial, "w") as stream:
        stream.write(cfg.dump())
    os.replace(partial, path)
    return path
