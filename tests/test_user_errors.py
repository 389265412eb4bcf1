"""timesformer.utils.user_errors: an error of the family ends a program in one line with its exit
status; any other keeps its traceback."""

import argparse

import pytest

from timesformer.config import ConfigError
from timesformer.datasets.video_container import VideoReadError
from timesformer.utils.user_errors import RunStopped, errors_end_in_one_line


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="tool.py")


@pytest.mark.parametrize(
    "error, line, exit_status",
    [
        (ConfigError("X is 0"), "tool.py: error: X is 0\n", 2),
        (VideoReadError("/v.mp4", "file not found"), "tool.py: error: /v.mp4: file not found\n", 1),
        (
            RunStopped("OUTPUT_DIR out is in use", 1),
            "tool.py: error: OUTPUT_DIR out is in use\n",
            1,
        ),
        (RunStopped("TRAIN.BATCH_SIZE is 4", 2), "tool.py: error: TRAIN.BATCH_SIZE is 4\n", 2),
    ],
)
def test_an_error_of_the_family_ends_in_one_line(capsys, error, line, exit_status):
    with pytest.raises(SystemExit) as exit_info, errors_end_in_one_line(_parser()):
        raise error
    assert exit_info.value.code == exit_status
    assert capsys.readouterr().err == line


def test_any_other_error_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError), errors_end_in_one_line(_parser()):
        raise ZeroDivisionError("integer modulo by zero")
