"""The shipped configs as package data: finding ``--cfg Kinetics/TimeSformer_divST_8x32_224.yaml``
wherever the command runs, and listing them (``timesformer configs``).

The YAML files live in the repository's top-level ``configs/`` folder. A wheel installs that folder
as ``timesformer/configs/`` (pyproject.toml and setup.py map the package ``timesformer.configs``
onto it, copying nothing in the repository); a checkout (an editable install, or the source tree)
has it beside the package folder. Importing this module imports neither torch nor YAML.
"""

import os
from pathlib import Path

from timesformer.config.check_rules import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The folder of the ``timesformer`` package."""
FOLDER_PREFIX = "configs"
"""The folder a checkout's users name configs by (``--cfg configs/Kinetics/...``)."""
CONFIG_SUFFIXES = (".yaml", ".yml")


def checkout_root() -> Path | None:
    """The checkout the package runs from (its folder holds pyproject.toml and configs/), or None
    for an installed wheel."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / FOLDER_PREFIX).is_dir():
        return root
    return None


def packaged_configs_dir() -> Path | None:
    """The folder of the shipped configs: ``timesformer/configs`` in a wheel, else the checkout's
    ``configs/``; None when neither exists."""
    installed = PACKAGE_DIR / FOLDER_PREFIX
    if installed.is_dir():
        return installed
    root = checkout_root()
    return None if root is None else root / FOLDER_PREFIX


def _packaged_name(path: str) -> str | None:
    """``path`` as a name under the packaged folder (``Kinetics/X.yaml``; a leading ``configs/``
    dropped), or None when it is absolute or leaves that folder."""
    if not path or os.path.isabs(path) or path.startswith("~"):
        return None
    parts = Path(os.path.normpath(path)).parts
    if parts and parts[0] == FOLDER_PREFIX:
        parts = parts[1:]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def packaged_config(path: str) -> str | None:
    """The packaged config file that ``path`` (``Kinetics/X.yaml``, ``configs/Kinetics/X.yaml``)
    names, or None when it names none."""
    folder, name = packaged_configs_dir(), _packaged_name(path)
    if folder is None or name is None:
        return None
    candidate = folder / name
    return str(candidate) if candidate.is_file() else None


def packaged_file(name: str) -> str:
    """The packaged config ``name`` (``Demo/X.yaml``) that a tool reads itself (the demo's).

    Raises:
        ConfigError: the installation lacks it.
    """
    packaged = packaged_config(name)
    if packaged is None:
        raise ConfigError(
            f"The packaged config {name} is missing (looked in {packaged_configs_dir()}): "
            "reinstall the package."
        )
    return packaged


def config_file(path: str, given_as: str = "--cfg") -> str:
    """``path`` when it exists as given, else the packaged config it names.

    Raises:
        ConfigError: neither exists; the message names both places looked.
    """
    if os.path.lexists(path):
        return path
    packaged = packaged_config(path)
    if packaged is not None:
        return packaged
    folder = packaged_configs_dir()
    name = _packaged_name(path)
    elsewhere = (
        f"nor is {folder / name} (the packaged configs)"
        if folder is not None and name is not None
        else "and it names no packaged config"
    )
    raise ConfigError(
        f"Config file {path} does not exist (given with {given_as}), {elsewhere}; "
        "`timesformer configs` lists the packaged ones."
    )


def first_comment(path: Path) -> str:
    """The text of the first ``#`` comment line of the file ``path`` ('' when it has none)."""
    with open(path, encoding="utf-8-sig") as stream:
        for line in stream:
            if line.lstrip().startswith("#"):
                return line.strip().lstrip("#").strip()
    return ""


def list_packaged_configs() -> list[tuple[str, str, str]]:
    """``(folder, file, description)`` of every packaged config, sorted; the description is the
    file's first comment line."""
    folder = packaged_configs_dir()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in CONFIG_SUFFIXES:
            relative = path.relative_to(folder)
            found.append((relative.parent.as_posix(), relative.name, first_comment(path)))
    return found
