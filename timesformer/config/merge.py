"""Merging YAML files and ``KEY VALUE`` overrides into a config, strictly.

Unlike a plain ``CfgNode.merge_from_*``, every key is checked before anything
changes: an unknown key fails with its name, where it came from and the
closest valid names; a value of the wrong type fails with the key and the type
expected (the default's, or the one ``VALUE_TYPES`` in defaults.py declares for keys whose
default is None or an empty list), list items included. Integers are accepted for float
keys (``SOLVER.BASE_LR 1``) and ``true``/``false`` for boolean keys.

A config file, and every file its ``_BASE_`` names, must be a regular file ending in ``.yaml``
or ``.yml``; that is checked before the file is opened. A key of the original's other models
(SlowFast, X3D, ResNet, AVA detection) fails saying that this project has only TimeSformer.
Errors show key names and values cut to MAX_SHOWN_CHARS, never a file's lines.
"""

import difflib
import os
import re
import stat
import types
import typing
from typing import Any, Iterable

import yaml
from fvcore.common.config import CfgNode

from timesformer.config.check_rules import ONLY_TIMESFORMER, ConfigError
from timesformer.config.defaults import VALUE_TYPES
from timesformer.config.packaged import config_file

_OPTION = re.compile(r"^--[A-Za-z]")
"""A command-line option (``--split``), which no config value looks like."""

BASE_KEY = "_BASE_"
YAML_SUFFIXES = (".yaml", ".yml")
MAX_SHOWN_CHARS = 80
"""The longest key name or value an error message shows; a longer one is cut, ending in '...'."""

ORIGINAL_MODEL_SECTIONS = {
    "SLOWFAST": "SlowFast model",
    "RESNET": "ResNet models (C2D, I3D, Slow, SlowFast)",
    "X3D": "X3D model",
    "NONLOCAL": "non-local blocks (ResNet models)",
    "BN": "batch norm (ResNet and X3D models)",
    "DETECTION": "AVA action detection",
    "AVA": "AVA action detection dataset",
    "MULTIGRID": "multigrid training (ResNet and X3D models)",
}
"""Sections of the original's defaults.py (PySlowFast's) that only its other models use, and what
they configure there; defaults.py has none of them."""

ORIGINAL_MODEL_KEYS = {
    "MODEL.SINGLE_PATHWAY_ARCH": "model families (C2D, I3D, Slow, X3D)",
    "MODEL.MULTI_PATHWAY_ARCH": "model families (SlowFast)",
    "MODEL.DROPCONNECT_RATE": "ResNet and X3D models",
    "MODEL.FC_INIT_STD": "head (ResNet and X3D models)",
    "MODEL.HEAD_ACT": "head (ResNet and X3D models)",
}
"""Keys of the original's MODEL section that only its other models use, and what they configure."""


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` as an error message shows it: control characters escaped (one line), and cut to
    ``limit`` characters."""
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def leaf_values(node: dict, prefix: str = "") -> dict[str, Any]:
    """Full dotted names of all leaf keys of ``node`` (a CfgNode, or a nested dict with string
    keys) with their values."""
    leaves = {}
    for key, value in node.items():
        full = prefix + key
        if isinstance(value, dict):
            leaves.update(leaf_values(value, full + "."))
        else:
            leaves[full] = value
    return leaves


def _section_keys(node: CfgNode, prefix: str = "") -> set[str]:
    """Full dotted names of all sub-trees of ``node`` (``TRAIN``, ``TENSORBOARD.HISTOGRAM``...)."""
    sections = set()
    for key, value in node.items():
        if isinstance(value, CfgNode):
            sections.add(prefix + key)
            sections |= _section_keys(value, prefix + key + ".")
    return sections


def _closest_names(key: str, valid: Iterable[str]) -> list[str]:
    """Valid names that look like ``key``: same last part, or a close spelling."""
    valid = sorted(valid)
    last = key.rsplit(".", 1)[-1]
    same_last = [name for name in valid if name.rsplit(".", 1)[-1] == last]
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.75)
    close_last = [
        name
        for name in valid
        if difflib.get_close_matches(last, [name.rsplit(".", 1)[-1]], cutoff=0.8)
    ]
    ordered = []
    for name in same_last + close + close_last:
        if name not in ordered and name != key:
            ordered.append(name)
    return ordered[:5]


def _unknown_key_error(key: str, source: str, cfg: CfgNode) -> ConfigError:
    """The error of a key ``cfg`` lacks: its name (cut), where it came from, close valid names."""
    names = []
    if len(key) <= MAX_SHOWN_CHARS:
        names = _closest_names(key, list(leaf_values(cfg)) + list(_section_keys(cfg)))
    hint = f" Did you mean: {', '.join(names)}?" if names else ""
    return ConfigError(f"Unknown config key {shown(key)} in {source}.{hint}")


def _original_model_part(key: str) -> str | None:
    """What ``key`` configures in the original when only its other models use it (its section
    in ORIGINAL_MODEL_SECTIONS, or ORIGINAL_MODEL_KEYS), else None."""
    section = key.split(".", 1)[0]
    return ORIGINAL_MODEL_SECTIONS.get(section) or ORIGINAL_MODEL_KEYS.get(key)


def _check_known_keys(items: Iterable[str], leaves: dict, source: str, cfg: CfgNode) -> None:
    """Raise for the keys of ``items`` that ``cfg`` lacks: first for a key of the original's
    other models (SlowFast, X3D...), which says so, else for the first unknown key."""
    unknown = [key for key in items if key not in leaves]
    for key in unknown:
        part = _original_model_part(key)
        if part:
            raise ConfigError(
                f"{shown(key)} in {source} configures the original's {part}: {ONLY_TIMESFORMER}."
            )
    if unknown:
        raise _unknown_key_error(unknown[0], source, cfg)


def expected_type(key: str, default: Any) -> Any:
    """The type a value of ``key`` must have: VALUE_TYPES[key], else the default's (``int``,
    ``str``, ``list[float]``...)."""
    if key in VALUE_TYPES:
        return VALUE_TYPES[key]
    if isinstance(default, (list, tuple)) and default:
        item = type(default[0])  # tuple[item, ...] or list[item], built at run time
        if isinstance(default, tuple):
            return types.GenericAlias(tuple, (item, ...))
        return types.GenericAlias(list, item)
    return type(default)


def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is None:
        return kind.__name__
    return f"{origin.__name__} of {typing.get_args(kind)[0].__name__}"


def _converted(value: Any, kind: Any) -> Any:
    """``value`` as a ``kind`` (a float may be given as an int, a bool as true/false, a list as a
    tuple and back); raises TypeError when it is not one."""
    origin = typing.get_origin(kind)
    if origin is not None:
        if not isinstance(value, (list, tuple)):
            raise TypeError
        item = typing.get_args(kind)[0]
        return origin(_converted(element, item) for element in value)
    if kind is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not kind:
        raise TypeError
    return value


def _coerce(key: str, value: Any, default: Any, source: str) -> Any:
    """Return ``value`` converted to the type of ``key`` (:func:`expected_type`), or raise
    naming ``key``. None is a value only of the keys whose default is None."""
    kind = expected_type(key, default)
    if value is None and default is None:
        return None
    try:
        return _converted(value, kind)
    except TypeError:
        pass
    name = _type_name(kind)
    expected = f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    if default is None:
        expected += " or None (unset, the default)"
    else:
        expected += f" like the default {default!r}"
    raise ConfigError(
        f"{key} in {source} is {shown(repr(value))} ({type(value).__name__}); expected {expected}."
    )


def _assign(cfg: CfgNode, key: str, value: Any) -> None:
    node = cfg
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value


def _flatten_yaml(tree: dict, cfg: CfgNode, source: str, prefix: str = "") -> dict[str, Any]:
    """``{"DATA": {"NUM_FRAMES": 8}}`` -> ``{"DATA.NUM_FRAMES": 8}``, following ``cfg``'s groups."""
    sections, leaves = _section_keys(cfg), leaf_values(cfg)
    flat = {}
    for key, value in tree.items():
        full = prefix + str(key)
        if full in sections and not isinstance(value, dict):
            raise ConfigError(
                f"{full} in {source} is a group of keys; expected a mapping, got "
                f"{shown(repr(value))}."
            )
        if isinstance(value, dict) and full not in leaves:
            flat.update(_flatten_yaml(value, cfg, source, full + "."))
        else:
            flat[full] = value
    return flat


def _merge_flat(cfg: CfgNode, items: dict[str, Any], source: str) -> None:
    leaves = leaf_values(cfg)
    _check_known_keys(items, leaves, source, cfg)
    coerced = {}
    for key, raw in items.items():
        keep_text = isinstance(raw, str) and isinstance(leaves[key], str)
        value = raw if keep_text or not isinstance(raw, str) else CfgNode._decode_cfg_value(raw)
        coerced[key] = _coerce(key, value, leaves[key], source)
    for key, value in coerced.items():
        _assign(cfg, key, value)


def _path_problem(path: str) -> str | None:
    """What makes ``path`` no config file (None: a regular file ending in .yaml or .yml, also once
    links are followed). Only ``os.stat`` looks at it: a FIFO or device is never opened."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return "does not exist"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, FIFO or device)"
    names = (path.lower(), os.path.realpath(path).lower())
    if not all(name.endswith(YAML_SUFFIXES) for name in names):
        return "is not a YAML file"
    return None


def _base_path(including: str, base: Any) -> str:
    """The file that the ``_BASE_`` entry ``base`` of the config file ``including`` names, checked
    by :func:`_path_problem`: ``~`` expanded, a relative path relative to ``including``'s folder."""
    if not isinstance(base, str) or not base:
        raise ConfigError(
            f"Config file {including}: _BASE_ is {shown(repr(base))}; expected the name of a YAML "
            "file, or a list of them."
        )
    path = os.path.expanduser(base) if base.startswith("~") else base
    path = path if os.path.isabs(path) else os.path.join(os.path.dirname(including), path)
    problem = _path_problem(path)
    if problem:
        resolved = "" if path == base else f" ({shown(path, 3 * MAX_SHOWN_CHARS)})"
        raise ConfigError(
            f"Config file {including}: its _BASE_ {shown(base)}{resolved} {problem}; expected "
            "a regular file ending in .yaml or .yml (a relative path is relative to this file)."
        )
    return path


def _read_mapping(path: str, name: str) -> dict:
    """The YAML mapping of the (checked) file ``path``, read safely; ``name``: the file, as
    errors call it."""
    try:
        with open(path, encoding="utf-8-sig") as stream:
            tree = yaml.safe_load(stream)
    except UnicodeDecodeError as error:
        raise ConfigError(f"{name} could not be read: it is not UTF-8 text.") from error
    except OSError as error:
        raise ConfigError(f"{name} could not be read: {error.strerror}.") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{name} could not be read: {error}") from error
    if tree is None:
        raise ConfigError(
            f"{name} is empty; expected a mapping of keys (e.g. 'TRAIN:' and its keys)."
        )
    if not isinstance(tree, dict):
        raise ConfigError(f"{name} must hold a mapping of keys, not {type(tree).__name__}.")
    return tree


def _merge_tree(tree: dict, into: dict, name: str) -> None:
    """Merge the mapping ``tree`` of a file into ``into`` (what its _BASE_ files hold): nested
    mappings key by key, any other value replacing."""
    for key, value in tree.items():
        if isinstance(value, dict) and key in into:
            if not isinstance(into[key], dict):
                raise ConfigError(
                    f"{name} sets {shown(str(key))} to a mapping of keys, where its _BASE_ "
                    "file sets a single value."
                )
            _merge_tree(value, into[key], name)
        else:
            into[key] = value


def _load_tree(path: str, chain: tuple[str, ...] = ()) -> dict:
    """The mapping of the config file ``path`` over those of the files its ``_BASE_`` names (a
    name or a list, each over the ones before), recursively; ``chain``: the files including it."""
    name = f"Config file {path}" + (f" (a _BASE_ of {chain[-1]})" if chain else "")
    tree = _read_mapping(path, name)
    bases = tree.pop(BASE_KEY, [])
    merged: dict = {}
    for base in bases if isinstance(bases, list) else [bases]:
        base_path = _base_path(path, base)
        if os.path.realpath(base_path) in {os.path.realpath(file) for file in (*chain, path)}:
            raise ConfigError(
                f"Config file {path}: its _BASE_ {shown(base)} is a file that includes it (a "
                "_BASE_ cycle)."
            )
        _merge_tree(_load_tree(base_path, (*chain, path)), merged, name)
    _merge_tree(tree, merged, name)
    return merged


def merge_yaml_file(cfg: CfgNode, path: str) -> CfgNode:
    """Merge the YAML file ``path`` (``_BASE_`` files included) into ``cfg``; a ``path`` that
    does not exist as given names a packaged config (``Kinetics/X.yaml``, see
    :func:`~timesformer.config.packaged.config_file`)."""
    path = config_file(path)
    problem = _path_problem(path)
    if problem:
        raise ConfigError(
            f"Config file {path} {problem} (given with --cfg); expected a regular file ending "
            "in .yaml or .yml."
        )
    source = f"config file {path}"
    _merge_flat(cfg, _flatten_yaml(_load_tree(path), cfg, source), source)
    return cfg


def merge_overrides(cfg: CfgNode, opts: list[str]) -> CfgNode:
    """Merge command-line overrides ``[KEY, VALUE, KEY, VALUE, ...]`` into ``cfg``."""
    options = [item for item in opts[0::2] if item.startswith("-")]
    options += [item for item in opts if _OPTION.match(item)]
    if options:
        raise ConfigError(
            f"{options[0]} is an option, not a config key: put options before the KEY VALUE "
            "overrides (everything after the first override is read as KEY VALUE pairs)."
        )
    if len(opts) % 2 != 0:
        raise ConfigError(
            f"Command-line overrides must be KEY VALUE pairs; {opts[-1]!r} has no value."
        )
    items = {}
    for key, value in zip(opts[0::2], opts[1::2], strict=True):
        items[key] = value
    _merge_flat(cfg, items, "the command line")
    return cfg
