"""Shared test set-up: make tools/ importable as the entry scripts see it."""

import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS_DIR = os.path.join(REPO_ROOT, "tools")
if TOOLS_DIR not in sys.path:
    sys.path.insert(0, TOOLS_DIR)


@pytest.fixture(scope="session")
def kinetics_dir(tmp_path_factory):
    """A Kinetics-format folder of tiny videos (see tiny_videos.write_kinetics_dir); read-only."""
    from tiny_videos import write_kinetics_dir

    folder = str(tmp_path_factory.mktemp("kinetics"))
    write_kinetics_dir(folder)
    return folder
