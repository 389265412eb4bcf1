"""Reading Charades' published annotation files, ``Charades_v1_{train,test}.csv``: video-level
labels from the ``actions`` column. (``Charades_v1_classes.txt``, one ``c000 Holding some
clothes`` line per class in class order, is a class-name file as TENSORBOARD.CLASS_NAMES_PATH
reads it.)"""

import csv
import re

from iopath.common.file_io import g_pathmgr

from timesformer.datasets.split_file import SplitFileError

ANNOTATION_FILES = {"train": "Charades_v1_train.csv", "test": "Charades_v1_test.csv"}
"""The published annotation file of each split (Charades has no separate validation split: val
and test read the test file)."""

_ACTION = re.compile(r"^c(\d{3}) (\d+(?:\.\d*)?) (\d+(?:\.\d*)?)$")
"""One entry of the ``actions`` field: ``c092 11.90 21.20`` (class, start and end in seconds)."""


def _missing(path: str) -> SplitFileError:
    return SplitFileError(f"{path}: annotation file not found")


def read_charades_videos(path: str, num_classes: int) -> list[tuple[str, tuple[int, ...]]]:
    """``Charades_v1_{train,test}.csv`` -> [(video id, its class ids, sorted)].

    The file has a header (``id,subject,scene,quality,relevance,verified,script,objects,
    descriptions,actions,length``) and one quoted CSV row per video; ``actions`` is empty (no
    action) or ``;``-separated ``cNNN start end`` entries. A video's labels are every class its
    actions name (video-level labels; the times are not used).

    Raises:
        SplitFileError: a missing file or column, a malformed ``actions`` entry, a class out of
            ``[0, num_classes)`` of MODEL.NUM_CLASSES, or a video id listed twice
            (``file:line: problem: 'text'``).
    """
    if not g_pathmgr.exists(path):
        raise _missing(path)
    videos: dict[str, tuple[int, ...]] = {}
    with g_pathmgr.open(path, "r", encoding="utf-8-sig", newline="") as stream:
        rows = csv.DictReader(stream)
        for column in ("id", "actions"):
            if column not in (rows.fieldnames or []):
                raise SplitFileError(f"{path}:1: no {column!r} column in the header")
        for row in rows:
            line = rows.line_num
            video_id = (row["id"] or "").strip()
            if not video_id:
                raise SplitFileError(f"{path}:{line}: the row has no video id")
            if video_id in videos:
                raise SplitFileError(f"{path}:{line}: video id {video_id!r} is listed twice")
            videos[video_id] = _action_classes(path, line, row["actions"] or "", num_classes)
    return list(videos.items())


def _action_classes(path: str, line: int, actions: str, num_classes: int) -> tuple[int, ...]:
    classes = set()
    for entry in filter(None, (part.strip() for part in actions.split(";"))):
        match = _ACTION.match(entry)
        if match is None:
            raise SplitFileError(
                f"{path}:{line}: malformed actions entry {entry!r}; expected 'cNNN start end' "
                "(e.g. 'c092 11.90 21.20'), entries separated by ';'"
            )
        class_id = int(match.group(1))
        if class_id >= num_classes:
            raise SplitFileError(
                f"{path}:{line}: class c{class_id:03d} is out of range [0, {num_classes}) of "
                "MODEL.NUM_CLASSES"
            )
        classes.add(class_id)
    return tuple(sorted(classes))
