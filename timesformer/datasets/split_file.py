"""Reading ``path label`` split files (Kinetics, HowTo100M), with errors that point at the line."""

import os

from iopath.common.file_io import g_pathmgr

from timesformer.errors import TimesformerError


class SplitFileError(TimesformerError, ValueError):
    """A split file that is missing or has a malformed line; the message gives file, line and
    text."""


def _line_error(path: str, line_number: int, text: str, problem: str) -> SplitFileError:
    return SplitFileError(f"{path}:{line_number}: {problem}: {text!r}")


def read_path_label_file(
    path: str, separator: str, path_prefix: str, num_classes: int
) -> tuple[list[str], list[int]]:
    """Parse a split file of ``video_path<separator>label`` lines (blank lines are skipped).

    Args:
        path: the split file, e.g. ``DATA.PATH_TO_DATA_DIR/train.csv``.
        separator: DATA.PATH_LABEL_SEPARATOR; the label follows its last occurrence,
            so video paths may contain it.
        path_prefix: DATA.PATH_PREFIX, joined in front of every video path.
        num_classes: MODEL.NUM_CLASSES; labels must lie in ``[0, num_classes)``.

    Returns:
        (video paths, labels), one entry per line.

    Raises:
        SplitFileError: missing or empty file, or a line without a path and an
            integer label in range (message: ``file:line: problem: 'text'``).
    """
    if not g_pathmgr.exists(path):
        raise SplitFileError(f"{path}: split file not found")
    paths, labels = [], []
    with g_pathmgr.open(path, "r", encoding="utf-8-sig") as stream:
        for line_number, line in enumerate(stream, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            video, label = _parse_line(path, line_number, text, separator, num_classes)
            paths.append(os.path.join(path_prefix, video))
            labels.append(label)
    if not paths:
        raise SplitFileError(f"{path}: no videos listed")
    return paths, labels


def _parse_line(
    path: str, line_number: int, text: str, separator: str, num_classes: int
) -> tuple[str, int]:
    video, found, label_text = text.strip().rpartition(separator)
    if not found or not video.strip():
        raise _line_error(path, line_number, text, f"expected 'path{separator}label'")
    try:
        label = int(label_text)
    except ValueError:
        raise _line_error(
            path, line_number, text, f"label {label_text!r} is not an integer"
        ) from None
    if not 0 <= label < num_classes:
        raise _line_error(
            path,
            line_number,
            text,
            f"label {label} is out of range [0, {num_classes}) of MODEL.NUM_CLASSES",
        )
    return video.strip(), label
