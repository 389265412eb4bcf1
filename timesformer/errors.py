"""The one family of errors a user can act on from their message alone.

A mistake in the config, a missing or damaged file, a busy OUTPUT_DIR or a full disk is named by
its message (the key, file or resource at fault, and what to do); a traceback would only hide
it. Every such error is a :class:`TimesformerError`: it ends a run, or a tool, with one line
``TOOL: error: MESSAGE`` on stderr and the exit status of its class, whichever process meets it.
Any other error (a bug) keeps its traceback.

This module is below every layer of the package: each may import it, and it imports nothing of
the package.
"""

import re

_WORKER_TRACEBACK = re.compile(r"Caught \w+ .*\.\nOriginal Traceback \(most recent call last\):\n")
"""The start of the message PyTorch gives an error it re-raises from a DataLoader worker process
(``torch._utils.ExceptionWrapper.reraise``): then the worker's whole traceback."""


def worker_message(text: str) -> str:
    """The message of the error that ``text`` names: when ``text`` is a worker's traceback as
    PyTorch re-raises it, the message of its last line (``module.Type: message``); any other
    text as it is."""
    if not _WORKER_TRACEBACK.match(text):
        return text
    last_line = text.rstrip("\n").rpartition("\n")[2]
    return last_line.partition(": ")[2]


class TimesformerError(Exception):
    """An error a user can act on from its message alone: it ends the run, or the tool, with one
    line ``TOOL: error: MESSAGE`` and :attr:`exit_status`, without a traceback.

    Every subclass can be made from its message alone, as PyTorch re-creates the error of a
    DataLoader worker in the process that iterates the loader (``type(error)(text)``, ``text``
    the worker's whole traceback): such a ``text`` becomes the worker's own message
    (:func:`worker_message`), so that the error keeps its class and its one line.
    """

    exit_status = 1
    """The program's exit status: 2 for a mistake in the config or the command line, 1 for
    anything else."""

    def __init__(self, message: str = ""):
        super().__init__(worker_message(message))
