"""timesformer.utils.output_lock on a full disk: one line naming run.lock and the free space, and
no empty run.lock left behind (a second run's lock is tested in test_launch.py)."""

import errno
import json
import os
import re
import shutil
from collections import namedtuple

import pytest

from helpers import run_net, tiny_args
from timesformer.utils.file_io import DiskFullError
from timesformer.utils.output_lock import lock_output_dir

_Usage = namedtuple("_Usage", "total used free")
EARLIER_OWNER = '{"pid": 1, "host": "node7", "started": "2024-01-01 00:00:00", "command": "x"}\n'


def _fill_disk(monkeypatch, folder: str, code: int = errno.ENOSPC, every_write: bool = False):
    """Make ``folder``'s disk full for this process, as a real one is: files can still be
    created (an inode is free), but a write that needs a new block fails with ``code``
    (``every_write``: any write, as on a copy-on-write file system). With ENOSPC the disk
    shows 0 bytes free; a full quota (EDQUOT) leaves the disk's own free space."""
    real_write, real_pwrite, real_usage = os.write, os.pwrite, shutil.disk_usage

    def fails(descriptor: int, size: int, offset: int) -> bool:
        if not os.readlink(f"/proc/self/fd/{descriptor}").startswith(folder):
            return False
        return every_write or offset + size > os.fstat(descriptor).st_blocks * 512

    def write(descriptor, data):
        if fails(descriptor, len(data), os.lseek(descriptor, 0, os.SEEK_CUR)):
            raise OSError(code, os.strerror(code))
        return real_write(descriptor, data)

    def pwrite(descriptor, data, offset):
        if fails(descriptor, len(data), offset):
            raise OSError(code, os.strerror(code))
        return real_pwrite(descriptor, data, offset)

    def disk_usage(path):
        usage = real_usage(path)
        if code == errno.ENOSPC and os.path.abspath(path).startswith(folder):
            return _Usage(usage.total, usage.total, 0)
        return usage

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "pwrite", pwrite)
    monkeypatch.setattr(shutil, "disk_usage", disk_usage)


def _lock(out: str) -> None:
    with lock_output_dir(out):
        pytest.fail("the lock was taken on a full disk")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_stops_in_one_line_and_leaves_no_empty_run_lock(tmp_path, monkeypatch, code):
    """With 0 bytes free the owner's record could not be written: a raw OSError traceback, and
    an empty run.lock left."""
    out = str(tmp_path / "run")
    _fill_disk(monkeypatch, out, code)
    with pytest.raises(DiskFullError) as error:
        _lock(out)
    free = r"0\.0" if code == errno.ENOSPC else r"\d+\.\d"  # a quota leaves the disk's space
    assert re.fullmatch(
        rf"No space left on device writing {re.escape(out)}/run\.lock \(nothing written; "
        rf"{free} MiB free there\)\.",
        str(error.value),
    )
    assert os.listdir(out) == []
    monkeypatch.undo()  # space freed: the lock is free too
    with lock_output_dir(out) as path:
        assert json.loads(open(path).read())["pid"] == os.getpid()


def test_an_earlier_run_lock_stays_on_a_full_disk(tmp_path, monkeypatch):
    """The earlier owner's record was cut before the new one was written, so a failed write
    lost it; an empty run.lock of an earlier run is kept as it is."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.lock").write_text(EARLIER_OWNER)
    _fill_disk(monkeypatch, str(out), every_write=True)
    with pytest.raises(DiskFullError, match=r"\(the previous file is unchanged; 0\.0 MiB free"):
        _lock(str(out))
    assert (out / "run.lock").read_text() == EARLIER_OWNER
    (out / "run.lock").write_text("")
    with pytest.raises(DiskFullError, match=r"\(the previous file is unchanged; 0\.0 MiB free"):
        _lock(str(out))
    assert (out / "run.lock").read_text() == ""


def test_a_full_disk_can_still_record_over_an_earlier_owner(tmp_path, monkeypatch):
    """The record is written over the earlier one, in the block the file already has."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.lock").write_text(EARLIER_OWNER + " " * 900)
    _fill_disk(monkeypatch, str(out))
    with lock_output_dir(str(out)) as path:
        assert json.loads(open(path).read())["pid"] == os.getpid()


def test_run_net_on_a_full_disk_ends_in_one_line(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "run")
    _fill_disk(monkeypatch, out)
    with pytest.raises(SystemExit) as exit_info:
        run_net(tiny_args("", out))
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: No space left on device writing {out}/run.lock (nothing written; 0.0 MiB "
        "free there)."
    )
    assert os.listdir(out) == []
