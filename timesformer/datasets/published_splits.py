"""Reading the train/test split files UCF101 and HMDB51 are published with, as they are.

The published files have Windows line endings, trailing blank lines and spaces, and may carry a
UTF-8 byte order mark; all are accepted. Video names are kept verbatim (HMDB51's contain ``!``,
``(``, ``&``, ``'``, ``]``, ...). Every problem is a :class:`SplitFileError` whose message names
the file, the line and its text: ``FILE:LINE: problem: 'text'``.
"""

import codecs
import os
from collections.abc import Iterator

from iopath.common.file_io import g_pathmgr

from timesformer.datasets.split_file import SplitFileError

UCF101_SPLIT_FOLDER = "ucfTrainTestlist"
"""The folder of UCF101TrainTestSplits-RecognitionTask.zip that holds the split files."""

UCF101_CLASS_FILE = "classInd.txt"
"""UCF101's class list: ``1 ApplyEyeMakeup`` ... ``101 YoYo``, numbered from 1."""

UCF101_TRAIN_LIST = "trainlist0{split_number}.txt"
"""UCF101's training videos of split ``split_number`` (1..3): ``Class/v_Class_gGG_cCC.avi N``."""

UCF101_TEST_LIST = "testlist0{split_number}.txt"
"""UCF101's test videos of split ``split_number`` (1..3): ``Class/v_Class_gGG_cCC.avi``."""

HMDB51_SPLIT_FILE = "{class_name}_test_split{split_number}.txt"
"""HMDB51's split file of one class and split (1..3): ``video.avi MARK`` lines."""

HMDB51_MARKS = {"unused": 0, "train": 1, "test": 2}
"""What the mark after a video in an HMDB51 split file means."""


def _line_error(path: str, line_number: int, text: str, problem: str) -> SplitFileError:
    return SplitFileError(f"{path}:{line_number}: {problem}: {text!r}")


def _lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number from 1, text without surrounding whitespace) of each non-blank line."""
    if not g_pathmgr.exists(path):
        raise SplitFileError(f"{path}: split file not found")
    with g_pathmgr.open(path, "rb") as stream:
        for line_number, raw in enumerate(stream, start=1):
            if line_number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                shown = raw.decode("utf-8", "backslashreplace").strip()
                raise _line_error(path, line_number, shown, "not UTF-8 text") from None
            if text:
                yield line_number, text


def read_ucf101_classes(path: str) -> list[str]:
    """UCF101's ``classInd.txt`` (``1 ApplyEyeMakeup`` ... ``101 YoYo``) -> class names in
    index order: the class numbered 1 is label 0.

    Raises:
        SplitFileError: missing or empty file, a line that is not ``NUMBER NAME``, numbers that
            do not run 1, 2, ..., N in order, or a name listed twice.
    """
    names: list[str] = []
    lines: dict[str, int] = {}
    for line_number, text in _lines(path):
        fields = text.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise _line_error(path, line_number, text, "expected 'NUMBER CLASS_NAME'")
        number, name = int(fields[0]), fields[1]
        if number != len(names) + 1:
            raise _line_error(
                path, line_number, text, f"class number {number}; expected {len(names) + 1}"
            )
        if name in lines:
            raise _line_error(
                path, line_number, text, f"class {name!r} is listed twice (line {lines[name]})"
            )
        names.append(name)
        lines[name] = line_number
    if not names:
        raise SplitFileError(f"{path}: no classes listed")
    return names


def read_ucf101_list(path: str, class_names: list[str]) -> list[tuple[str, int]]:
    """UCF101's ``trainlist0N.txt`` (``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``: label
    numbered from 1) or ``testlist0N.txt`` (``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi``: no
    label, the class is the path's folder) -> [(path relative to the UCF-101 folder, label from
    0)], in file order. Only the folder is matched against the class names: the published file
    names may spell the class otherwise (``HandstandPushups/v_HandStandPushups_g01_c01.avi``).

    Args:
        path: the list file.
        class_names: the classes in index order (:func:`read_ucf101_classes`).

    Raises:
        SplitFileError: missing or empty file, a line that is not ``Class/video.avi [N]``, a
            label out of ``1..len(class_names)``, a folder that is no class or not the label's
            class, or a video listed twice.
    """
    labels = {name: label for label, name in enumerate(class_names)}
    videos: list[tuple[str, int]] = []
    lines: dict[str, int] = {}
    for line_number, text in _lines(path):
        fields = text.split()
        folder, slash, _ = fields[0].partition("/")
        if len(fields) > 2 or not slash or not folder:
            raise _line_error(path, line_number, text, "expected 'Class/video.avi [label]'")
        video = fields[0]
        if folder not in labels:
            raise _line_error(path, line_number, text, f"folder {folder!r} is no class")
        if len(fields) == 2:
            _check_numbered_label(path, line_number, text, fields[1], folder, class_names)
        if video in lines:
            raise _line_error(path, line_number, text, f"video listed twice (line {lines[video]})")
        lines[video] = line_number
        videos.append((video, labels[folder]))
    if not videos:
        raise SplitFileError(f"{path}: no videos listed")
    return videos


def _check_numbered_label(
    path: str, line_number: int, text: str, label_text: str, folder: str, class_names: list[str]
) -> None:
    """A ``trainlist`` label (from 1) must name the class of the video's folder."""
    if not label_text.isdigit() or not 1 <= int(label_text) <= len(class_names):
        raise _line_error(
            path,
            line_number,
            text,
            f"label {label_text!r}; expected a class number 1..{len(class_names)}",
        )
    named = class_names[int(label_text) - 1]
    if named != folder:
        raise _line_error(
            path,
            line_number,
            text,
            f"folder {folder!r} disagrees with label {label_text} (class {named!r})",
        )


def read_hmdb51_split(
    split_dir: str, split_number: int, part: str
) -> tuple[list[str], list[tuple[str, int]]]:
    """HMDB51's split files ``{class}_test_split{split_number}.txt`` in ``split_dir`` (one per
    class; lines ``video_name.avi MARK``, mark 1 train, 2 test, 0 unused) -> (class names sorted
    by name, [(``class/video_name.avi``, label: the class's index)] of the videos marked
    ``part``), classes in order, each class's videos in file order.

    Args:
        split_dir: the folder of the extracted test_train_splits.rar.
        split_number: 1, 2 or 3.
        part: "train" or "test".

    Raises:
        SplitFileError: no split file of ``split_number`` in ``split_dir``, a line that is not
            ``video MARK``, a mark other than 0/1/2, a video listed twice in a file, or no
            video marked ``part``.
        ValueError: ``part`` is neither "train" nor "test".
    """
    if part not in ("train", "test"):
        raise ValueError(f"part is {part!r}; expected 'train' or 'test'")
    suffix = HMDB51_SPLIT_FILE.format(class_name="", split_number=split_number)
    if not g_pathmgr.isdir(split_dir):
        raise SplitFileError(f"{split_dir}: folder of the HMDB51 split files not found")
    classes = sorted(
        name[: -len(suffix)]
        for name in g_pathmgr.ls(split_dir)
        if name.endswith(suffix) and len(name) > len(suffix)
    )
    if not classes:
        raise SplitFileError(
            f"{split_dir}: no HMDB51 split files of split {split_number} "
            f"('{HMDB51_SPLIT_FILE.format(class_name='CLASS', split_number=split_number)}')"
        )
    videos = []
    for label, class_name in enumerate(classes):
        path = os.path.join(split_dir, f"{class_name}{suffix}")
        for video, mark in _hmdb51_marks(path):
            if mark == HMDB51_MARKS[part]:
                videos.append((f"{class_name}/{video}", label))
    if not videos:
        raise SplitFileError(
            f"{split_dir}: no video is marked {HMDB51_MARKS[part]} ({part}) in the split files "
            f"of split {split_number}"
        )
    return classes, videos


def _hmdb51_marks(path: str) -> list[tuple[str, int]]:
    """[(video name, mark)] of one HMDB51 split file, in file order."""
    marks: list[tuple[str, int]] = []
    lines: dict[str, int] = {}
    for line_number, text in _lines(path):
        fields = text.rsplit(None, 1)
        if len(fields) != 2:
            raise _line_error(path, line_number, text, "expected 'video_name.avi MARK'")
        video, mark_text = fields
        if mark_text not in ("0", "1", "2"):
            raise _line_error(
                path,
                line_number,
                text,
                f"mark {mark_text!r}; expected 0 (unused), 1 (train) or 2 (test)",
            )
        if video in lines:
            raise _line_error(path, line_number, text, f"video listed twice (line {lines[video]})")
        lines[video] = line_number
        marks.append((video, int(mark_text)))
    return marks


def check_class_count(source: str, class_names: list[str], num_classes: int) -> None:
    """MODEL.NUM_CLASSES must equal the number of classes the split files give.

    Raises:
        SplitFileError: naming ``source`` (where the classes come from), both counts and the key.
    """
    if len(class_names) != num_classes:
        raise SplitFileError(
            f"{source}: {len(class_names)} classes, but MODEL.NUM_CLASSES is {num_classes}; "
            f"set MODEL.NUM_CLASSES {len(class_names)}"
        )


RESIZED_EXTENSION = ".mp4"
"""The extension ``tools/prepare_dataset.py resize`` gives the videos it writes."""


def video_path(path_prefix: str, video: str) -> str:
    """``path_prefix/video`` (a published ``.avi``), or, when that file is missing and the same
    name with extension ``.mp4`` exists (as ``tools/prepare_dataset.py resize`` writes it), that
    one: the published split files read resized trees too."""
    path = os.path.join(path_prefix, video)
    if g_pathmgr.exists(path):
        return path
    resized = os.path.splitext(path)[0] + RESIZED_EXTENSION
    return resized if g_pathmgr.exists(resized) else path
