"""Shared fixtures; shared helpers are in helpers.py."""

import pytest

from helpers import write_kinetics_dir


@pytest.fixture(scope="session")
def kinetics_dir(tmp_path_factory):
    """A Kinetics-format folder of tiny videos (see helpers.write_kinetics_dir); read-only."""
    folder = str(tmp_path_factory.mktemp("kinetics"))
    write_kinetics_dir(folder)
    return folder
