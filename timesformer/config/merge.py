"""Merging YAML files and ``KEY VALUE`` overrides into a config, strictly.

Unlike a plain ``CfgNode.merge_from_*``, every key is checked before anything
changes: an unknown key fails with its full name, where it came from and the
closest valid names; a value of the wrong type fails with the key and the type
expected (the default's, or the one ``VALUE_TYPES`` in defaults.py declares for keys whose
default is None or an empty list), list items included. Integers are accepted for float
keys (``SOLVER.BASE_LR 1``) and ``true``/``false`` for boolean keys.
"""

import difflib
import os
import re
import typing
from typing import Any, Iterable

import yaml
from fvcore.common.config import CfgNode

from timesformer.config.checks import ConfigError
from timesformer.config.defaults import VALUE_TYPES

_OPTION = re.compile(r"^--[A-Za-z]")
"""A command-line option (``--split``), which no config value looks like."""


def leaf_values(node: CfgNode, prefix: str = "") -> dict[str, Any]:
    """Full dotted names of all leaf keys of ``node`` with their values."""
    leaves = {}
    for key, value in node.items():
        full = prefix + key
        if isinstance(value, CfgNode):
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
    names = _closest_names(key, list(leaf_values(cfg)) + list(_section_keys(cfg)))
    hint = f" Did you mean: {', '.join(names)}?" if names else ""
    return ConfigError(f"Unknown config key {key} in {source}.{hint}")


def expected_type(key: str, default: Any) -> Any:
    """The type a value of ``key`` must have: VALUE_TYPES[key], else the default's (``int``,
    ``str``, ``list[float]``...)."""
    if key in VALUE_TYPES:
        return VALUE_TYPES[key]
    if isinstance(default, (list, tuple)) and default:
        item = type(default[0])
        return tuple[item, ...] if isinstance(default, tuple) else list[item]
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
        f"{key} in {source} is {value!r} ({type(value).__name__}); expected {expected}."
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
                f"{full} in {source} is a group of keys; expected a mapping, got {value!r}."
            )
        if isinstance(value, dict) and full not in leaves:
            flat.update(_flatten_yaml(value, cfg, source, full + "."))
        else:
            flat[full] = value
    return flat


def _merge_flat(cfg: CfgNode, items: dict[str, Any], source: str) -> None:
    leaves = leaf_values(cfg)
    coerced = {}
    for key, raw in items.items():
        if key not in leaves:
            raise _unknown_key_error(key, source, cfg)
        keep_text = isinstance(raw, str) and isinstance(leaves[key], str)
        value = raw if keep_text or not isinstance(raw, str) else CfgNode._decode_cfg_value(raw)
        coerced[key] = _coerce(key, value, leaves[key], source)
    for key, value in coerced.items():
        _assign(cfg, key, value)


def _is_empty_yaml(path: str) -> bool:
    """Whether ``path`` holds no YAML document at all (nothing, or only comments)."""
    with open(path, encoding="utf-8-sig") as stream:
        try:
            return yaml.safe_load(stream) is None
        except yaml.YAMLError:
            return False  # reported with its position by the full read


def merge_yaml_file(cfg: CfgNode, path: str) -> CfgNode:
    """Merge the YAML file ``path`` (``_BASE_`` files included) into ``cfg``."""
    if not os.path.isfile(path):
        raise ConfigError(f"Config file {path} does not exist (given with --cfg).")
    if _is_empty_yaml(path):
        raise ConfigError(
            f"Config file {path} is empty; expected a mapping of keys (e.g. 'TRAIN:' and its keys)."
        )
    try:
        tree = CfgNode.load_yaml_with_base(path, allow_unsafe=False)
    except TypeError as error:  # fvcore's error for an empty _BASE_ file
        raise ConfigError(
            f"Config file {path} could not be read: a file it names in _BASE_ is empty or not a "
            f"mapping of keys ({error})."
        ) from error
    except Exception as error:  # yaml.YAMLError, or a missing _BASE_ file
        raise ConfigError(f"Config file {path} could not be read: {error}") from error
    if not isinstance(tree, dict):
        raise ConfigError(
            f"Config file {path} must hold a mapping of keys, not {type(tree).__name__}."
        )
    source = f"config file {path}"
    _merge_flat(cfg, _flatten_yaml(tree, cfg, source), source)
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
