"""Writing files so that a crash never leaves a half-written file under the final name, clearing
what crashed writes left behind, setting a damaged file aside, and checking that a folder can be
written before a run needs it."""

import errno
import os
import re
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from timesformer.errors import TimesformerError

PARTIAL_SUFFIX = ".tmp."
"""Temporary files are ``PATH.tmp.PID``: the final name, this suffix, the writer's process id."""
_PARTIAL_NAME = re.compile(r"^.+\.tmp\.(\d+)$")
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(TimesformerError, OSError):
    """A file could not be written because its device (or the user's quota) is full."""


class RunFolderError(TimesformerError, OSError):
    """A folder a run writes (OUTPUT_DIR, its checkpoints, the TensorBoard folder...), or a file
    of OUTPUT_DIR, that cannot be created, written or set aside; the message names it and why."""


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
        with open(partial, "wb" if binary else "w", encoding=None if binary else "utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except Exception as error:
        disk_full = disk_full_error(path, error)
        if disk_full is not None:
            raise disk_full from error
        raise
    finally:
        if os.path.lexists(partial):
            os.remove(partial)


def disk_full_error(path: str, error: BaseException) -> DiskFullError | None:
    """The :class:`DiskFullError` to raise for ``error``, met writing ``path``, when it says (or
    the free space of the folder says) that the disk is full; else None. Its message names the
    file, whether an earlier one is still there, and the free space left."""
    folder = os.path.dirname(path) or "."
    if not _is_disk_full(error, folder):
        return None
    kept = "the previous file is unchanged" if os.path.exists(path) else "nothing written"
    return DiskFullError(
        f"No space left on device writing {path} ({kept}; {_free_space(folder)} free there)."
    )


def _is_disk_full(error: BaseException, folder: str) -> bool:
    """Whether ``error`` (or an error it came from) says the disk is full, or the folder's disk
    has (next to) no space left; writers such as torch.save report a full disk as a short
    write ("unexpected pos")."""
    seen = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in _DISK_FULL_ERRNOS:
            return True
        cause = cause.__cause__ or cause.__context__
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


def set_aside(path: str, suffix: str) -> str:
    """Rename ``path`` to the first free name of ``PATH+SUFFIX``, ``PATH+SUFFIX.1``,
    ``PATH+SUFFIX.2``... (an earlier file set aside is never replaced) and return it. Call it
    where one process writes (the holder of the OUTPUT_DIR lock)."""
    target, number = path + suffix, 0
    while os.path.lexists(target):
        number += 1
        target = f"{path}{suffix}.{number}"
    os.rename(path, target)
    return target


def folder_problem(path: str) -> tuple[str, str] | None:
    """``(culprit, why)`` when ``path`` cannot be used as a folder to write in, else None.

    ``culprit`` is ``path`` or the folder above it at fault; ``why`` says what it is instead:
    a symlink to a target that does not exist (named), a symlink loop, a file, a folder that
    is not writable. A missing folder is fine when the nearest existing one above it is
    writable (the writer creates it); nothing is created here.
    """
    try:
        status = os.stat(path)
    except OSError as error:
        return _unreachable_folder_problem(path, error)
    if not stat.S_ISDIR(status.st_mode):
        kind = "a file" if stat.S_ISREG(status.st_mode) else "a device, pipe or socket"
        link = f" (a symlink to {os.path.realpath(path)})" if os.path.islink(path) else ""
        return path, f"is {kind}{link}, not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return path, "is a folder this user cannot write in"
    return None


def _unreachable_folder_problem(path: str, error: OSError) -> tuple[str, str] | None:
    """:func:`folder_problem` of a ``path`` that ``os.stat`` failed on with ``error``."""
    if os.path.islink(path):
        if error.errno == errno.ELOOP:
            return path, "is a symlink loop (following it leads back to it)"
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return path, f"is a symlink to {os.path.realpath(path)}, which does not exist"
    if error.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
        return path, f"cannot be reached ({error.strerror})"
    parent = os.path.dirname(os.path.abspath(path))
    return None if parent == os.path.abspath(path) else folder_problem(parent)
