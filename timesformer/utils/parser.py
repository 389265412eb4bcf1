"""Command lines: the arguments of ``tools/run_net.py`` and of every other tool, and loading
the config they describe.

Every command line is built by :func:`build_arg_parser`: ``--cfg FILE``, the tool's own
options, then (for tools that take files) ``VIDEO...``, then ``KEY VALUE`` overrides.
A mistake in the config raises a ConfigError naming the file or key, which the tool ends on
with one line ``TOOL: error: ...`` (:func:`exit_with_error`), exit status 2, as argparse does for
a bad option.

This module imports no torch: a tool's ``--help``, a bad option and a mistake in a value that
needs no implementation (:func:`read_config`) answer before torch loads, which takes seconds,
tens of them on a busy machine (the command lines: :mod:`timesformer.cli.config_loading`).
"""

import argparse
import difflib
import os
import re
import sys

import yaml
from fvcore.common.config import CfgNode

from timesformer.config.checks import assert_and_infer_cfg, check_values
from timesformer.config.defaults import get_cfg
from timesformer.config.merge import (
    ORIGINAL_MODEL_SECTIONS,
    leaf_values,
    merge_overrides,
    merge_yaml_file,
)
from timesformer.utils.file_io import RunFolderError, atomic_write, set_aside
from timesformer.utils.launcher_environment import LauncherEnvironment, apply_launcher_environment
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

EPILOG = """\
Trailing KEY VALUE pairs override the config, e.g.:
  python tools/run_net.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \\
      DATA.PATH_TO_DATA_DIR /data/kinetics NUM_GPUS 8 TRAIN.BATCH_SIZE 8
"""
_CONFIG_KEY = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)*$")
_YAML_KINDS = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}


def build_arg_parser(
    description: str = "Train and test TimeSformer models.",
    *,
    config: bool = True,
    launch: bool = False,
    items: str | None = None,
) -> argparse.ArgumentParser:
    """The parser of a command line; tools add their own options to it.

    Args:
        config: ``--cfg FILE`` and trailing ``KEY VALUE`` overrides (``args.opts``).
        launch: ``--init_method``, ``--shard_id``, ``--num_shards``: where this machine's
            processes meet the job's others (run_net.py and the scripts like it).
        items: the tool also takes paths (e.g. ``"VIDEO"``) after its options and before
            the overrides; :func:`load_tool_config` separates them.
    """
    parser = argparse.ArgumentParser(
        description=description,
        epilog=EPILOG if config else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if config:
        parser.add_argument(
            "--cfg",
            dest="cfg_file",
            default=None,
            help="YAML config file (keys of timesformer/config/defaults.py).",
        )
    if launch:
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
    if config:
        metavar = f"{items}... [KEY VALUE...]" if items else "KEY VALUE"
        what = (
            f"{items} paths, then config overrides"
            if items
            else "Config overrides, applied after the YAML file"
        )
        parser.add_argument(
            "opts",
            default=[],
            nargs=argparse.REMAINDER,
            metavar=metavar,
            help=f"{what} (after all options).",
        )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``--cfg FILE [--init_method URL] [--shard_id N] [--num_shards N] [KEY VALUE ...]``.

    The original's ``timesformer.utils.parser.parse_args``, kept for the scripts written against
    it (``args = parse_args(); cfg = load_config(args)``); this project's own command lines build
    their parser with :func:`build_arg_parser`."""
    return build_arg_parser(launch=True).parse_args(sys.argv[1:] if argv is None else argv)


def load_config(
    args: argparse.Namespace,
    check_devices: bool = True,
    environment: LauncherEnvironment | None = None,
) -> CfgNode:
    """Build the run's config: defaults <- ``args.cfg_file`` <- ``args.opts``, then check it
    (:func:`read_config`, then :func:`~timesformer.config.checks.assert_and_infer_cfg`).

    The values that implementations register (attention types, datasets...) are checked when
    they are loaded: ``timesformer.engine`` loads them all, and the command lines
    (:mod:`timesformer.cli.config_loading`) load it once the other values are checked.
    Raises :class:`timesformer.config.ConfigError` naming the file or key at fault.
    """
    return assert_and_infer_cfg(read_config(args, environment), check_devices=check_devices)


def read_config(
    args: argparse.Namespace, environment: LauncherEnvironment | None = None
) -> CfgNode:
    """The run's config, defaults <- ``args.cfg_file`` <- ``args.opts``, with every value that
    needs no implementation checked (:func:`~timesformer.config.checks.check_values`): no torch
    loads, so that a command line names such a mistake at once.

    ``--shard_id`` / ``--num_shards``, when given, set SHARD_ID / NUM_SHARDS last. A process
    that a launcher started (``environment``, e.g. torchrun's) takes the job's shape from it
    (:func:`~timesformer.utils.launcher_environment.apply_launcher_environment`; global rank 0
    logs the keys it changed).
    Raises :class:`timesformer.config.ConfigError` naming the file or key at fault.
    """
    cfg = get_cfg()
    if getattr(args, "cfg_file", None):
        merge_yaml_file(cfg, args.cfg_file)
    opts = list(getattr(args, "opts", None) or [])
    merge_overrides(cfg, opts)
    if getattr(args, "num_shards", None) is not None:
        cfg.NUM_SHARDS = args.num_shards
    if getattr(args, "shard_id", None) is not None:
        cfg.SHARD_ID = args.shard_id
    if environment is not None:
        changes = apply_launcher_environment(cfg, environment, _command_line_keys(args, opts))
        if changes and environment.rank == 0:
            logger.warning(
                "The launcher's job (%s) sets %s.", environment.describe(), ", ".join(changes)
            )
    check_values(cfg)
    return cfg


def _command_line_keys(args: argparse.Namespace, opts: list[str]) -> set[str]:
    """The config keys a command line sets itself: its KEY VALUE overrides, and SHARD_ID /
    NUM_SHARDS by ``--shard_id`` / ``--num_shards``."""
    keys = set(opts[::2])
    for option, key in (("num_shards", "NUM_SHARDS"), ("shard_id", "SHARD_ID")):
        if getattr(args, option, None) is not None:
            keys.add(key)
    return keys


def exit_with_error(parser: argparse.ArgumentParser, message: object, exit_status: int = 2) -> None:
    """Print ``TOOL: error: message`` on stderr and exit with ``exit_status`` (argparse's way,
    without the usage lines: the message says what to change)."""
    parser.exit(exit_status, f"{parser.prog}: error: {message}\n")


def split_items(items: list[str]) -> tuple[list[str], list[str]]:
    """(paths, overrides): overrides start at the first item that is no file and is spelled like
    a config key of this project: its first part a top-level key or section (``NUM_GPUS``,
    ``DATA.NUM_FRAMES``), one of the original's other models' (``SLOWFAST.ALPHA``), or close
    to one (``NUM_GPU``, a typo that then gets the unknown-key error). Other names, such as a
    missing ``CLIP.MP4`` or ``VIDEO_1``, are paths (named as missing files)."""
    top_level = [*get_cfg().keys(), *ORIGINAL_MODEL_SECTIONS]
    for position, item in enumerate(items):
        if _CONFIG_KEY.match(item) and not os.path.exists(item):
            first = item.split(".", 1)[0]
            if difflib.get_close_matches(first, top_level, n=1, cutoff=0.8):
                return items[:position], items[position:]
    return list(items), []


def saved_config_changes(cfg: CfgNode, filename: str = "config.yaml") -> list[str]:
    """``KEY: saved -> now`` for every key whose value in ``OUTPUT_DIR/filename`` (the config an
    earlier run there saved) differs from ``cfg``'s; empty when there is no such file, or none
    that reads as a config (:func:`save_config` sets such a file aside, saying why).

    Raises:
        RunFolderError: a folder is where the file should be.
    """
    saved, _ = _read_saved_config(_config_path(cfg, filename))
    if saved is None:
        return []
    saved_values, values = leaf_values(saved), leaf_values(cfg)
    changes = []
    for key, value in values.items():
        before = saved_values.get(key, value)
        if isinstance(value, tuple | list) and isinstance(before, tuple | list):
            before, value = list(before), list(value)
        if before != value:
            changes.append(f"{key}: {before!r} -> {value!r}")
    return changes


def save_config(cfg: CfgNode, filename: str = "config.yaml") -> str:
    """Write ``cfg`` as YAML to ``OUTPUT_DIR/filename`` (atomically) and return the path.

    An earlier file there that does not read as a config (damaged, not YAML, not a mapping of
    keys) is first renamed to ``FILENAME.unreadable`` (or ``.unreadable.N``, never over an
    earlier one), with a warning naming both paths.

    Raises:
        RunFolderError: a folder is where the file should be, or an unreadable file there cannot
            be renamed.
    """
    path = _config_path(cfg, filename)
    _set_aside_if_unreadable(path)
    with atomic_write(path, binary=False) as stream:
        stream.write(cfg.dump())
    return path


def _config_path(cfg: CfgNode, filename: str) -> str:
    """``OUTPUT_DIR/filename``; a RunFolderError when it is a folder."""
    path = os.path.join(cfg.OUTPUT_DIR, filename)
    if os.path.isdir(path):
        raise RunFolderError(
            f"{path} is a folder, but a run saves its config there as a YAML file: move the "
            "folder away, or choose another OUTPUT_DIR."
        )
    return path


def _read_saved_config(path: str) -> tuple[dict | None, str | None]:
    """(the mapping of the YAML file ``path``, None); ``({}, None)`` when there is no file;
    ``(None, why)`` when it does not read as a config."""
    if not os.path.lexists(path):
        return {}, None
    if not os.path.isfile(path):
        return None, "not a regular file"
    try:
        with open(path, encoding="utf-8") as stream:
            saved = yaml.safe_load(stream)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except yaml.YAMLError as error:
        return None, f"not valid YAML: {' '.join(str(error).split())}"
    except OSError as error:
        return None, error.strerror or str(error)
    if saved is None:
        return {}, None
    if not isinstance(saved, dict):
        return None, f"its YAML is a {_YAML_KINDS.get(type(saved), 'value')}, not a mapping of keys"
    if not _keys_are_names(saved):
        return None, "its YAML has keys that are not names"
    return saved, None


def _keys_are_names(mapping: dict) -> bool:
    """Whether every key of the nested ``mapping`` is a string, as a config's keys are."""
    return all(
        isinstance(key, str) and (not isinstance(value, dict) or _keys_are_names(value))
        for key, value in mapping.items()
    )


def _set_aside_if_unreadable(path: str) -> None:
    """Rename the file ``path`` to ``path.unreadable[.N]`` when it does not read as a config, so
    that writing a new one never loses it; warn, naming both paths."""
    _, reason = _read_saved_config(path)
    if reason is None:
        return
    try:
        kept = set_aside(path, ".unreadable")
    except OSError as error:
        raise RunFolderError(
            f"{path} cannot be read ({reason}) nor renamed ({error.strerror or error}): move it "
            "away, or choose another OUTPUT_DIR."
        ) from error
    logger.warning(
        "The saved config %s cannot be read (%s); it is kept as %s, and this run's config is "
        "saved as %s.",
        path,
        reason,
        kept,
        path,
    )
