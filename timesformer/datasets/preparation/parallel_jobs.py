"""Worker processes for the preparation verbs: one job per process, stopped as a whole.

The workers ignore Ctrl-C (SIGINT reaches the whole process group): the main process alone
decides, and stops them all (:meth:`multiprocessing.pool.Pool.terminate`) when it is
interrupted or done. On Linux a worker is also killed when the main process dies (``kill -9``),
so that no orphan goes on writing after it.
"""

import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal a process gets when its parent dies (linux/prctl.h)."""


def _start_worker(parent_pid: int) -> None:
    """Set up a worker process: Ctrl-C ignored, and (Linux) killed with its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)


@contextmanager
def worker_pool(jobs: int) -> Iterator[multiprocessing.pool.Pool]:
    """``jobs`` worker processes; on leaving the block, whether done, interrupted (Ctrl-C) or
    on an error, every worker is stopped (a job in progress is killed with it) and reaped.

    Example::

        with worker_pool(4) as pool:
            for result in pool.imap_unordered(work, tasks):
                ...
    """
    pool = multiprocessing.Pool(jobs, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
