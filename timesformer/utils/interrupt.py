"""Ctrl-C as a request to stop at the next safe point, instead of an exception wherever the
main thread happens to be (half-way through writing a row of an output file, say)."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopRequest:
    """Set by SIGINT while :func:`stop_on_interrupt`'s block runs; ``requested`` tells the
    loop to stop. A second Ctrl-C stops at once (KeyboardInterrupt), as usual."""

    def __init__(self):
        self.requested = False

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def stop_on_interrupt() -> Iterator[StopRequest]:
    """A :class:`StopRequest` that SIGINT sets during the block (outside the main thread, where
    Python cannot install handlers, one that nothing sets); the previous handler back after."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = signal.signal(signal.SIGINT, request._handle)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)
