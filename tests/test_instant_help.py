"""Instant help and early errors: every command's ``--help``, a bad option and a config mistake
answer before torch is imported (it takes seconds, tens of them on a busy machine); the time they
take is measured by tools/benchmark_startup.py, not here."""

import os
import subprocess
import sys

import pytest

from helpers import DEMO_CFG, REPO_ROOT
from timesformer.cli.main import COMMANDS

_PROBE = """
import sys
from timesformer.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:
    status = stop.code
print("torch loaded:", "torch" in sys.modules, file=sys.stderr)
sys.exit(status)
"""


def _timesformer(argv: list[str]) -> subprocess.CompletedProcess:
    """``timesformer ARGV`` in a fresh interpreter, which then says on stderr whether torch got
    loaded."""
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_answers_before_torch_loads(name):
    result = _timesformer([name, "--help"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: timesformer {name}"), result.stdout
    assert "torch loaded: False" in result.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--cfg", DEMO_CFG, "TRAIN.BATCH_SIZ", "8"], "TRAIN.BATCH_SIZ"),
        (["run", "--cfg", DEMO_CFG, "TRAIN.BATCH_SIZE", "many"], "TRAIN.BATCH_SIZE"),
        (["test", "--cfg", DEMO_CFG, "TEST.BATCH_SIZE", "0"], "TEST.BATCH_SIZE is 0"),
        (["train", "--cfg", "missing.yaml"], "missing.yaml"),
        (
            [
                "predict",
                "--cfg",
                DEMO_CFG,
                "--checkpoint",
                "m.pyth",
                "v.mp4",
                "DATA.NUM_FRAME",
                "8",
            ],
            "DATA.NUM_FRAME",
        ),
        (["stats", "--cfg", DEMO_CFG, "TIMESFORMER.DEPTH", "0"], "TIMESFORMER.DEPTH is 0"),
        (["check-dataset", "--cfg", DEMO_CFG, "SOLVER.BASE_LR", "x"], "SOLVER.BASE_LR"),
        (["train", "--cfg", DEMO_CFG, "--shard_id", "two"], "--shard_id"),
        (["predict", "--topk", "x"], "--topk"),
    ],
)
def test_a_mistake_is_named_before_torch_loads(argv, message):
    result = _timesformer(argv)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "torch loaded: False" in result.stderr


def test_a_tools_script_answers_help_before_torch_loads():
    """tools/<tool>.py is the same main: python -X importtime lists every module it imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", os.path.join("tools", "predict.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.startswith("usage: predict.py")
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "torch" not in imported and "timesformer.cli.predict" in imported


@pytest.mark.parametrize("command", ["train", "stats"])
def test_the_registered_values_are_checked_once_torch_loads(command):
    """The values implementations register (here TIMESFORMER.ATTENTION_TYPE) are checked too,
    with the implementations loaded."""
    result = _timesformer([command, "--cfg", DEMO_CFG, "TIMESFORMER.ATTENTION_TYPE", "divided"])
    assert result.returncode == 2, result.stderr
    assert "TIMESFORMER.ATTENTION_TYPE" in result.stderr and "divided_space_time" in result.stderr
    assert "Traceback" not in result.stderr
