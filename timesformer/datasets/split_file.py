"""Reading ``path label`` split files (Kinetics, HowTo100M, one's own videos), with errors that
point at the line; with DATA.MULTI_LABEL, ``path label,label,...`` lines."""

import os

from iopath.common.file_io import g_pathmgr

from timesformer.errors import TimesformerError

SPLITS = ("train", "val", "test")
"""The splits of a dataset (:class:`~timesformer.datasets.clip_dataset.ClipDataset`'s ``split``);
Kinetics, HowTo100M and one's own videos read each from ``DATA.PATH_TO_DATA_DIR/{split}.csv``."""


class SplitFileError(TimesformerError, ValueError):
    """A split file that is missing or has a malformed line; the message gives file, line and
    text."""


def _line_error(path: str, line_number: int, text: str, problem: str) -> SplitFileError:
    return SplitFileError(f"{path}:{line_number}: {problem}: {text!r}")


Labels = int | tuple[int, ...]
"""A video's label: one class id, or (multi-label) the tuple of its class ids."""

MULTI_LABEL_SEPARATOR = ","
"""Between the labels of a video in a multi-label split file (``path 3,17,40``)."""


def read_path_label_file(
    path: str, separator: str, path_prefix: str, num_classes: int, multi_label: bool = False
) -> tuple[list[str], list[Labels]]:
    """Parse a split file of ``video_path<separator>label`` lines (blank lines are skipped).

    Args:
        path: the split file, e.g. ``DATA.PATH_TO_DATA_DIR/train.csv``.
        separator: DATA.PATH_LABEL_SEPARATOR; the label follows its last occurrence,
            so video paths may contain it.
        path_prefix: DATA.PATH_PREFIX, joined in front of every video path.
        num_classes: MODEL.NUM_CLASSES; labels must lie in ``[0, num_classes)``.
        multi_label: DATA.MULTI_LABEL: the label is one or more class ids separated by commas
            (``3,17,40``; each once), returned as a tuple (sorted).

    Returns:
        (video paths, labels), one entry per line: ints, or tuples of ints with ``multi_label``.

    Raises:
        SplitFileError: missing or empty file, or a line without a path and an
            integer label in range (message: ``file:line: problem: 'text'``).
    """
    if not g_pathmgr.exists(path):
        raise SplitFileError(f"{path}: split file not found")
    paths: list[str] = []
    labels: list[Labels] = []
    with g_pathmgr.open(path, "r", encoding="utf-8-sig") as stream:
        for line_number, line in enumerate(stream, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            video, label = _parse_line(path, line_number, text, separator, num_classes, multi_label)
            paths.append(os.path.join(path_prefix, video))
            labels.append(label)
    if not paths:
        raise SplitFileError(f"{path}: no videos listed")
    return paths, labels


def _parse_line(
    path: str,
    line_number: int,
    text: str,
    separator: str,
    num_classes: int,
    multi_label: bool,
) -> tuple[str, Labels]:
    video, found, label_text = text.strip().rpartition(separator)
    if not found or not video.strip():
        raise _line_error(path, line_number, text, f"expected 'path{separator}label'")
    if not multi_label:
        if MULTI_LABEL_SEPARATOR in label_text:
            raise _line_error(
                path,
                line_number,
                text,
                f"label {label_text!r} lists several classes; set DATA.MULTI_LABEL True for "
                "videos with several labels",
            )
        return video.strip(), _class_id(path, line_number, text, label_text, num_classes)
    ids = [
        _class_id(path, line_number, text, part, num_classes)
        for part in label_text.split(MULTI_LABEL_SEPARATOR)
    ]
    if len(set(ids)) < len(ids):
        raise _line_error(path, line_number, text, "a label is listed twice")
    return video.strip(), tuple(sorted(ids))


def _class_id(path: str, line_number: int, text: str, label_text: str, num_classes: int) -> int:
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
    return label
