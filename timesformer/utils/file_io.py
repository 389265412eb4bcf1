"""Writing files so that a crash never leaves a half-written file under the final name, and
clearing what crashed writes left behind."""

import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

PARTIAL_SUFFIX = ".tmp."
"""Temporary files are ``PATH.tmp.PID``: the final name, this suffix, the writer's process id."""
_PARTIAL_NAME = re.compile(r"^.+\.tmp\.(\d+)$")
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """A file could not be written because its device (or the user's quota) is full."""


@contextmanager
def atomic_write(path: str, binary: bool = True) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success flush it to disk and
    rename it to ``path``.

    A crash (or an exception in the block) at any moment leaves either the old file or
    the complete new one, never a partial one under ``path``; the temporary file
    ``path.tmp.PID`` is removed when the block fails. The parent folder is created.

    Raises:
        DiskFullError: the device or quota is full (whatever error the writer got, e.g.
            torch's "unexpected pos"); the message names the file and its folder.

    Example::

        with atomic_write(checkpoint_path) as stream:
            torch.save(state, stream)
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}{PARTIAL_SUFFIX}{os.getpid()}"
    try:
        with open(
            partial, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
        ) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except Exception as error:
        if _is_disk_full(error, os.path.dirname(path) or "."):
            kept = "the previous file is unchanged" if os.path.exists(path) else "nothing written"
            raise DiskFullError(
                f"No space left on device writing {path} ({kept}; "
                f"{_free_space(os.path.dirname(path) or '.')} free there)."
            ) from error
        raise
    finally:
        if os.path.lexists(partial):
            os.remove(partial)


def _is_disk_full(error: BaseException, folder: str) -> bool:
    """Whether ``error`` (or an error it came from) says the disk is full, or the folder's disk
    has (next to) no space left; writers such as torch.save report a full disk as a short
    write ("unexpected pos")."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
            return True
        error = error.__cause__ or error.__context__
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _free_space(folder: str) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:.1f} MiB"
    except OSError:
        return "unknown space"


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partial_files(folder: str) -> list[str]:
    """Delete the temporary files (``NAME.tmp.PID``) that writers killed mid-write left in
    ``folder``: those of processes no longer running on this machine, and this process's own.
    Returns the paths removed."""
    if not os.path.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _PARTIAL_NAME.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and _process_is_alive(pid):
            continue
        path = os.path.join(folder, name)
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
