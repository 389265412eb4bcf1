"""One run per OUTPUT_DIR: an OS file lock that the run holds while it runs.

The lock is ``fcntl.flock`` on ``OUTPUT_DIR/run.lock``, which the operating system
releases when the process ends, however it ends (a crash, kill -9, a node's job killed by
Slurm), so a lock is never stale: a requeued or rerun job finds it free. The file itself
stays, holding the last owner's pid, host, start time and command line, which the
message of a second run names.
"""

import datetime
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from timesformer.errors import TimesformerError
from timesformer.utils.file_io import RunFolderError, disk_full_error
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

LOCK_FILE_NAME = "run.lock"
_COMMAND_CHARS = 300


class OutputDirLockedError(TimesformerError, RuntimeError):
    """Another running process holds the lock of the OUTPUT_DIR; the message names it."""


def _owner(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as stream:
            owner = json.load(stream)
        return (
            f"pid {owner['pid']} on {owner['host']}, started {owner['started']}: {owner['command']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "owner unknown"


@contextmanager
def lock_output_dir(output_dir: str) -> Iterator[str]:
    """Hold the lock of ``output_dir`` (created if needed) for the ``with`` block.

    Raises:
        RunFolderError: ``output_dir`` (OUTPUT_DIR) cannot be created or written.
        DiskFullError: no space is left to record this run in ``run.lock``; a ``run.lock``
            created here is removed again, an earlier one keeps its content.
        OutputDirLockedError: another process holds it; the message names that process.
    """
    path = os.path.join(output_dir, LOCK_FILE_NAME)
    descriptor, created = _open_lock_file(output_dir, path)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputDirLockedError(
                f"OUTPUT_DIR {output_dir} is in use by another run ({_owner(path)}). Wait for it "
                "to end or stop it, or choose another OUTPUT_DIR."
            ) from None
        except OSError as error:  # a file system without locks (some network mounts)
            logger.warning("Cannot lock %s (%s); running without the lock.", path, error)
            yield path
            return
        _record_owner(descriptor, path, created)
        try:
            yield path
        finally:
            # Unlock explicitly: forked loader workers share the descriptor and may outlive it.
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _open_lock_file(output_dir: str, path: str) -> tuple[int, bool]:
    """(descriptor of ``path`` open for reading and writing, whether this call created it);
    ``output_dir`` is created first when needed."""
    try:
        os.makedirs(output_dir, exist_ok=True)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            return os.open(path, os.O_RDWR), False
    except OSError as error:
        disk_full = disk_full_error(path, error)
        if disk_full is not None:
            raise disk_full from error
        raise RunFolderError(
            f"OUTPUT_DIR {output_dir} cannot be created or written: {error.strerror or error}."
        ) from error


def _record_owner(descriptor: int, path: str, created: bool) -> None:
    """Write this process's pid, host, start time and command line into the locked ``path``.

    The new content is written over the old before the file is cut to its length, so that a
    write that fails (a full disk) leaves an earlier owner's record as it was; a file this run
    ``created`` is removed again.

    Raises:
        DiskFullError: the disk (or quota) is full.
        RunFolderError: another error of the write, naming ``path``.
    """
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now().isoformat(sep=" ", timespec="seconds"),
        "command": " ".join(sys.argv)[:_COMMAND_CHARS],
    }
    data = (json.dumps(owner) + "\n").encode()
    try:
        written = 0
        while written < len(data):
            written += os.pwrite(descriptor, data[written:], written)
        os.ftruncate(descriptor, len(data))
    except OSError as error:
        if created:
            os.remove(path)
        disk_full = disk_full_error(path, error)
        if disk_full is not None:
            raise disk_full from error
        raise RunFolderError(f"{path} cannot be written: {error.strerror or error}.") from error
