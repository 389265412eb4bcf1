"""Split files: malformed lines named with file, line and text, missing files, separators and
prefixes, a byte order mark."""

import os

import pytest

from helpers import (
    TINY_VIDEO_DATA,
    tiny_cfg,
)
from timesformer.datasets import build_dataset
from timesformer.datasets.split_file import SplitFileError


@pytest.mark.parametrize(
    "line, problem",
    [
        ("landscape_30fps.mp4", "expected 'path label'"),
        ("landscape_30fps.mp4 abc", "label 'abc' is not an integer"),
        ("landscape_30fps.mp4 5", "label 5 is out of range [0, 5)"),
        ("landscape_30fps.mp4 -1", "out of range"),
    ],
)
def test_malformed_split_line_fails_at_build_with_file_line_and_text(tmp_path, line, problem):
    (tmp_path / "train.csv").write_text(f"a.mp4 0\n\nb.mp4 1\n{line}\n")
    with pytest.raises(SplitFileError) as error:
        build_dataset("kinetics", tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA), "train")
    message = str(error.value)
    assert (
        f"{tmp_path / 'train.csv'}:4:" in message and problem in message and repr(line) in message
    )


def test_missing_split_file_is_named(tmp_path):
    with pytest.raises(SplitFileError, match="val.csv: split file not found"):
        build_dataset("kinetics", tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA), "val")


def test_custom_separator_and_prefix(tmp_path, kinetics_dir):
    (tmp_path / "train.csv").write_text("landscape_30fps.mp4,3\n")
    cfg = tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA)
    cfg.DATA.PATH_LABEL_SEPARATOR = ","
    cfg.DATA.PATH_PREFIX = kinetics_dir
    dataset = build_dataset("kinetics", cfg, "train")
    assert (
        dataset.paths == [os.path.join(kinetics_dir, "landscape_30fps.mp4")] and dataset[0][1] == 3
    )


def test_split_file_with_byte_order_mark_reads_its_first_path(tmp_path, kinetics_dir):
    """Spreadsheet tools save CSV files as UTF-8 with a BOM, which used to stick to the first
    path ("\ufefflandscape_30fps.mp4: file not found")."""
    (tmp_path / "train.csv").write_bytes(
        "landscape_30fps.mp4 0\nportrait_24fps.mp4 1\n".encode("utf-8-sig")
    )
    cfg = tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA)
    cfg.DATA.PATH_PREFIX = kinetics_dir
    dataset = build_dataset("kinetics", cfg, "train")
    assert dataset.paths[0] == os.path.join(kinetics_dir, "landscape_30fps.mp4")
    assert dataset[0][2] == 0  # read, not replaced
