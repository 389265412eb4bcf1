"""Atomic writes: a failed write leaves the previous file and no temporary file behind; a full
disk named; damaged files set aside; folders checked before a run writes in them."""

import errno
import os
import shutil
from collections import namedtuple

import pytest

from timesformer.utils.file_io import (
    DiskFullError,
    atomic_write,
    disk_full_error,
    folder_problem,
    set_aside,
)

_Usage = namedtuple("_Usage", "total used free")


def test_text_and_binary_writes_land_complete(tmp_path):
    path = tmp_path / "sub" / "config.yaml"
    with atomic_write(str(path), binary=False) as stream:
        stream.write("TRAIN:\n  ENABLE: true\n")
    assert path.read_text() == "TRAIN:\n  ENABLE: true\n"
    with atomic_write(str(tmp_path / "blob.bin")) as stream:
        stream.write(b"\x00\x01")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    path = tmp_path / "results.pyth"
    path.write_bytes(b"old results")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(str(path)) as stream:
            stream.write(b"half of the new")
            raise KeyboardInterrupt("killed while writing")
    assert path.read_bytes() == b"old results"
    assert os.listdir(tmp_path) == ["results.pyth"]


def test_a_full_disk_is_named_with_the_file_and_its_free_space(tmp_path, monkeypatch):
    path = str(tmp_path / "run.lock")
    assert disk_full_error(path, PermissionError(errno.EACCES, "Permission denied")) is None
    quota = disk_full_error(path, OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert isinstance(quota, DiskFullError)
    assert str(quota).startswith(f"No space left on device writing {path} (nothing written; ")
    monkeypatch.setattr(shutil, "disk_usage", lambda _folder: _Usage(1 << 30, 1 << 30, 0))
    assert str(disk_full_error(path, RuntimeError("unexpected pos 64"))) == (
        f"No space left on device writing {path} (nothing written; 0.0 MiB free there)."
    )


def test_set_aside_never_replaces_an_earlier_file_set_aside(tmp_path):
    path = tmp_path / "config.yaml"
    (tmp_path / "config.yaml.unreadable").write_text("first")
    path.write_text("second")
    assert set_aside(str(path), ".unreadable") == f"{path}.unreadable.1"
    path.write_text("third")
    assert set_aside(str(path), ".unreadable") == f"{path}.unreadable.2"
    assert [(tmp_path / f"config.yaml.unreadable{n}").read_text() for n in ("", ".1", ".2")] == [
        "first",
        "second",
        "third",
    ]
    assert not path.exists()


def test_folder_problems_name_the_culprit_and_why(tmp_path):
    (tmp_path / "a_file").write_text("")
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    os.symlink("loop", tmp_path / "loop")
    os.symlink(tmp_path / "a_file", tmp_path / "to_a_file")
    assert folder_problem(str(tmp_path / "new" / "deeper")) is None  # created when written
    assert folder_problem(str(tmp_path)) is None
    assert folder_problem(str(tmp_path / "dangling")) == (
        str(tmp_path / "dangling"),
        f"is a symlink to {tmp_path / 'gone'}, which does not exist",
    )
    assert folder_problem(str(tmp_path / "loop" / "sub")) == (
        str(tmp_path / "loop"),
        "is a symlink loop (following it leads back to it)",
    )
    assert folder_problem(str(tmp_path / "a_file" / "sub")) == (
        str(tmp_path / "a_file"),
        "is a file, not a folder",
    )
    assert folder_problem(str(tmp_path / "to_a_file")) == (
        str(tmp_path / "to_a_file"),
        f"is a file (a symlink to {tmp_path / 'a_file'}), not a folder",
    )


def test_a_folder_that_cannot_be_written_is_a_problem(tmp_path, monkeypatch):
    """(As root every folder is writable, so the permission check is stood in for.)"""
    monkeypatch.setattr(os, "access", lambda path, mode: path != str(tmp_path))
    assert folder_problem(str(tmp_path / "new")) == (
        str(tmp_path),
        "is a folder this user cannot write in",
    )
