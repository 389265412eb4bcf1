"""Kept for the packages it lists, and so that the original's ``python setup.py build develop``
stops at once with one line saying what to run instead: setuptools' ``develop`` and ``install``
commands would fetch the dependencies with easy_install (building numpy from source in a fresh
environment); ``pip install -e .`` is what ``develop`` did, with pip.

The metadata lives in pyproject.toml; the packages are listed here, because pyproject.toml can
either find packages or list them, and the wheel needs both: every package under timesformer/
(found), and ``timesformer.configs``, which is the top-level configs/ folder (its YAML files,
installed as ``timesformer/configs/``; see timesformer/config/packaged.py).
"""

import sys

from setuptools import find_packages, setup

LEGACY_COMMANDS = ("develop", "install", "easy_install")
"""The setup.py commands that install through easy_install rather than pip."""

legacy = [command for command in sys.argv[1:] if command in LEGACY_COMMANDS]
if legacy:
    sys.exit(
        f"setup.py {legacy[0]} is not supported (it would install the dependencies with "
        "easy_install); run `pip install -e .` instead (an editable install, as develop made), or "
        "`make install` (a .venv with PyTorch and the project): see docs/install.md."
    )

setup(
    packages=[*find_packages(include=["timesformer", "timesformer.*"]), "timesformer.configs"],
    package_dir={"timesformer.configs": "configs"},
)
