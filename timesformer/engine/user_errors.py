"""Errors a user can act on from their message alone, and ending a program on them with one
line ``TOOL: error: MESSAGE`` instead of a traceback.

A mistake in the config, a missing or damaged file, a busy OUTPUT_DIR or a full disk is
named by its message; a traceback would only hide it. Such an error ends a run in whichever
process meets it: a spawned training process hands it to its launcher as a
:class:`RunStopped`, and a DataLoader worker's error reaches the process as the loader
re-raises it. Any other error (a bug) keeps its traceback.
"""

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager

from timesformer.checkpoint.files import CheckpointError
from timesformer.config.checks import ConfigError
from timesformer.datasets.clip_dataset import TooManyUnreadableVideosError
from timesformer.datasets.split_file import SplitFileError
from timesformer.datasets.video_container import VideoReadError
from timesformer.engine.trainer import NonFiniteLossError
from timesformer.utils.file_io import DiskFullError
from timesformer.utils.output_lock import OutputDirLockedError

STOPPING_ERRORS = (
    CheckpointError,
    SplitFileError,
    VideoReadError,
    TooManyUnreadableVideosError,
    NonFiniteLossError,
    OutputDirLockedError,
    DiskFullError,
)
"""Errors whose message says all a user needs (the file, key or resource at fault): a run they
stop ends with that message alone, without a traceback. ConfigError is one too (exit status 2)."""
_LOADER_WORKER_ERROR = re.compile(r"Caught (\w+) in DataLoader worker process \d+")


class RunStopped(Exception):
    """A run stopped by a :data:`STOPPING_ERRORS` error (or a ConfigError), in this process or in
    one it launched; ``exit_status`` is 2 for a config mistake, else 1."""

    def __init__(self, message: str, exit_status: int):
        super().__init__(message)
        self.exit_status = exit_status


def stopped_run(error: BaseException) -> RunStopped | None:
    """``error`` as a :class:`RunStopped` when it is one of the errors a user can act on from its
    message alone, else None (a bug: its traceback is what helps)."""
    if isinstance(error, RunStopped):
        return error
    if isinstance(error, ConfigError):
        return RunStopped(str(error), 2)
    if isinstance(error, STOPPING_ERRORS):
        return RunStopped(str(error), 1)
    return _stopped_in_loader_worker(error)


def _stopped_in_loader_worker(error: BaseException) -> RunStopped | None:
    """A stopping error raised in a DataLoader worker, which the loader re-raises in this process
    with the worker's whole traceback as its message: its last line, ``module.Type: message``."""
    text = str(error).strip()
    caught = _LOADER_WORKER_ERROR.match(text)
    if caught is None:
        return None
    message = text.splitlines()[-1].partition(": ")[2]
    if caught.group(1) == ConfigError.__name__:
        return RunStopped(message, 2)
    if caught.group(1) in {kind.__name__ for kind in STOPPING_ERRORS}:
        return RunStopped(message, 1)
    return None


@contextmanager
def errors_end_in_one_line(parser: argparse.ArgumentParser) -> Iterator[None]:
    """End the program on an error a user can act on from its message (:func:`stopped_run`) with
    one line ``TOOL: error: MESSAGE`` on stderr and its exit status, without a traceback."""
    try:
        yield
    except Exception as error:
        stopped = stopped_run(error)
        if stopped is None:
            raise
        parser.exit(stopped.exit_status, f"{parser.prog}: error: {stopped}\n")
