"""Ending a program on an error a user can act on from its message alone (a
:class:`~timesformer.errors.TimesformerError`) with one line ``TOOL: error: MESSAGE`` instead of a
traceback.

Such an error ends a run in whichever process meets it: a spawned training process hands it to
its launcher as a :class:`RunStopped`, and a DataLoader worker's error reaches the process as
the loader re-raises it, of the same class and with the worker's own message. Any other error
(a bug) keeps its traceback.
"""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from timesformer.errors import TimesformerError
from timesformer.utils.parser import exit_with_error


class RunStopped(TimesformerError):
    """A run stopped by a :class:`~timesformer.errors.TimesformerError` in a process it
    launched; the message and ``exit_status`` are that error's."""

    def __init__(self, message: str, exit_status: int = 1):
        super().__init__(message)
        self.exit_status = exit_status


@contextmanager
def errors_end_in_one_line(
    parser: argparse.ArgumentParser, exit_status: int | None = None
) -> Iterator[None]:
    """End the program on a :class:`~timesformer.errors.TimesformerError` with one line
    ``TOOL: error: MESSAGE`` on stderr and the error's exit status, without a traceback.

    ``exit_status``: the tool's own status for every such error instead, for a tool whose
    statuses have meanings of their own (check_dataset: 1 reports the unreadable videos it
    found, 2 that it could not check)."""
    try:
        yield
    except TimesformerError as error:
        exit_with_error(parser, error, error.exit_status if exit_status is None else exit_status)
