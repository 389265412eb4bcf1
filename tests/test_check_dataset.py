"""tools/check_dataset.py: lists every unreadable video with its reason, then a summary."""

import os

import pytest

from helpers import (
    VIDEOS,
    write_kinetics_dir,
    write_truncated_copy,
    write_truncated_faststart_video,
)
from timesformer.cli import check_dataset


def args(folder, *extra):
    return [
        "NUM_GPUS",
        "0",
        "DATA.PATH_TO_DATA_DIR",
        folder,
        "DATA.PATH_PREFIX",
        folder,
        "MODEL.NUM_CLASSES",
        "5",
        "DATA.NUM_FRAMES",
        "4",
        "DATA_LOADER.NUM_WORKERS",
        "0",
        *extra,
    ]


def test_lists_unreadable_videos_with_reasons_and_summary(tmp_path, capsys):
    folder = str(tmp_path)
    write_kinetics_dir(folder, extra_lines=("truncated.mp4 3", "missing.mp4 4", "empty.mp4 1"))
    write_truncated_copy(
        os.path.join(folder, next(iter(VIDEOS))), os.path.join(folder, "truncated.mp4")
    )
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert check_dataset.main(["--split", "val", *args(folder)]) == 1
    out = capsys.readouterr().out
    assert f"UNREADABLE {folder}/missing.mp4: file not found" in out
    assert f"UNREADABLE {folder}/empty.mp4: empty file (0 bytes)" in out
    assert f"UNREADABLE {folder}/truncated.mp4: cannot open" in out
    assert "Summary: kinetics val: 6 videos checked, 3 unreadable." in out
    assert "landscape_30fps.mp4" not in out


def test_clean_split_exits_zero(tmp_path, capsys):
    write_kinetics_dir(str(tmp_path), splits=("test",))
    assert check_dataset.main(["--split", "test", *args(str(tmp_path))]) == 0
    assert "3 videos checked, 0 unreadable" in capsys.readouterr().out


def test_malformed_split_file_is_one_line_naming_the_line(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("a.mp4 zero\n")
    with pytest.raises(SystemExit) as exit_info:
        check_dataset.main(args(str(tmp_path)))
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: {tmp_path}/train.csv:1: label 'zero' is not an integer: 'a.mp4 zero'"
    )


def test_file_cut_short_is_found_whatever_the_test_views(tmp_path, capsys):
    """With one test view (the Kinetics configs) the old check read only the first clip of a file
    cut in half, said "0 unreadable", and training then failed on most of its clips."""
    write_truncated_faststart_video(str(tmp_path / "half.mp4"))
    write_kinetics_dir(str(tmp_path), extra_lines=("half.mp4 4",), splits=("train",))
    assert check_dataset.main(args(str(tmp_path), "TEST.NUM_ENSEMBLE_VIEWS", "1")) == 1
    out = capsys.readouterr().out
    assert f"UNREADABLE {tmp_path}/half.mp4: " in out
    assert "Summary: kinetics train: 4 videos checked, 1 unreadable." in out
