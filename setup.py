"""Kept so that ``python setup.py build develop`` works as in the original instructions.

The metadata lives in pyproject.toml; the packages are listed here, because pyproject.toml can
either find packages or list them, and the wheel needs both: every package under timesformer/
(found), and ``timesformer.configs``, which is the top-level configs/ folder (its YAML files,
installed as ``timesformer/configs/``; see timesformer/config/packaged.py).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["timesformer", "timesformer.*"]), "timesformer.configs"],
    package_dir={"timesformer.configs": "configs"},
)
