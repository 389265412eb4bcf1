"""Atomic writes: a failed write leaves the previous file and no temporary file behind."""

import os

import pytest

from timesformer.utils.file_io import atomic_write


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
