"""Writing files so that a crash never leaves a half-written file under the final name."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def atomic_write(path: str, binary: bool = True) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success flush it to disk and
    rename it to ``path``.

    A crash (or an exception in the block) at any moment leaves either the old file or
    the complete new one, never a partial one under ``path``; the temporary file
    ``path.tmp.PID`` is removed when the block fails. The parent folder is created.

    Example::

        with atomic_write(checkpoint_path) as stream:
            torch.save(state, stream)
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}.tmp.{os.getpid()}"
    try:
        with open(
            partial, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
        ) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
