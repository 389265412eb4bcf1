"""Kept so that ``python setup.py build develop`` works as in the original instructions.

All metadata lives in pyproject.toml.
"""

from setuptools import setup

setup()
