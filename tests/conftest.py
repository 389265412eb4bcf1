"""Shared fixtures; shared helpers are in helpers.py."""

import pytest
import torch

from helpers import write_kinetics_dir


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped on a machine without a CUDA GPU."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def kinetics_dir(tmp_path_factory):
    """A Kinetics-format folder of tiny videos (see helpers.write_kinetics_dir); read-only."""
    folder = str(tmp_path_factory.mktemp("kinetics"))
    write_kinetics_dir(folder)
    return folder
