"""setup.py: the original's `python setup.py build develop` stops at once, saying what to run."""

import subprocess
import sys

import pytest

from helpers import REPO_ROOT


@pytest.mark.parametrize("command", [["build", "develop"], ["install"], ["develop", "--user"]])
def test_legacy_install_commands_stop_with_one_line(command):
    done = subprocess.run(
        [sys.executable, "setup.py", *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "run `pip install -e .` instead" in lines[0], done.stderr
    assert not done.stdout  # nothing was built


def test_setup_py_still_describes_the_package():
    done = subprocess.run(
        [sys.executable, "setup.py", "--version"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1].count(".") == 2
