"""The videos of one's own dataset, with their classes: from a folder of class subfolders, or
from a table (CSV or JSON) of ``path, label[, split]``.

Each video's ``path`` is the text a split file will hold: relative to the folder (or, for a
table, as the table gives it: relative to the table's folder, or absolute), so that
``DATA.PATH_PREFIX`` is that folder.
"""

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass

from timesformer.datasets.preparation.errors import PreparationError, read_json_list, reading
from timesformer.datasets.preparation.video_names import is_video, path_problem, shown

SPLITS = ("train", "val", "test")
"""The split files a listing writes (``{split}.csv``), in the order of ``--fractions``."""

TABLE_COLUMNS = ("path", "label", "split")
"""A table's columns: the video's path, its class name, and (optional) its split."""


@dataclass(frozen=True)
class Video:
    """One video of the dataset.

    Attributes:
        path: as the split file holds it (relative to the source folder, or the table's text).
        class_name: the name of its class.
        split: the split the table gives it (one of :data:`SPLITS`), or None: split by hashing.
        source: where it was found, for messages (``table.csv:12``, or the file itself).
    """

    path: str
    class_name: str
    split: str | None = None
    source: str = ""


def find_videos(source: str, skip: str | None = None) -> list[Video]:
    """The videos of ``source``: a folder of class subfolders, or a ``.csv`` / ``.json`` table.

    ``skip``: a folder not to scan (the listing's output folder, when it lies inside ``source``).

    Raises:
        PreparationError: no such folder or table, or bad input (see :func:`scan_class_folders`
            and :func:`read_table`).
    """
    if os.path.isdir(source):
        return scan_class_folders(source, skip)
    if not os.path.isfile(source):
        raise PreparationError(f"{source}: no such folder or file")
    if source.lower().endswith(".json"):
        return read_json_table(source)
    if source.lower().endswith(".csv"):
        return read_csv_table(source)
    raise PreparationError(
        f"{source}: expected a folder of class subfolders, or a table ending in .csv or .json"
    )


def scan_class_folders(source: str, skip: str | None = None) -> list[Video]:
    """Every video directly inside each class subfolder of ``source``, the class being the
    subfolder's name; paths ``CLASS/VIDEO``, sorted. Hidden files and folders (``.name``) are
    left out, and so are files that are not videos, and folders inside the class folders.

    Raises:
        PreparationError: a class folder without a video or whose name starts or ends with
            whitespace, a video directly in ``source`` (it has no class), a name a split file
            cannot hold, or no class folder at all.
    """
    skipped = os.path.realpath(skip) if skip else None
    videos: list[Video] = []
    for entry in sorted(os.scandir(source), key=lambda entry: entry.name):
        if entry.name.startswith(".") or os.path.realpath(entry.path) == skipped:
            continue
        if entry.is_dir():
            videos += _class_folder_videos(entry.path, entry.name)
        elif is_video(entry.name):
            raise PreparationError(
                f"{shown(entry.path)}: a video outside the class folders; expected "
                f"{shown(source)}/CLASS/VIDEO, the class being the folder's name"
            )
    if not videos:
        raise PreparationError(
            f"{shown(source)}: no class folder; expected one subfolder of videos per class"
        )
    return videos


def _class_folder_videos(folder: str, class_name: str) -> list[Video]:
    if class_name != class_name.strip():
        raise PreparationError(
            f"{ascii(folder)}: class folder name starts or ends with whitespace (a class name "
            f"that looks like {class_name.strip()!r}); rename it"
        )
    names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
    videos = [
        Video(f"{class_name}/{name}", class_name, source=os.path.join(folder, name))
        for name in names
        if is_video(name)
    ]
    if not videos:
        raise PreparationError(
            f"{shown(folder)}: class folder without a video; expected video files "
            f"(.mp4, .avi, .mkv, .webm...) directly inside it, or remove it"
        )
    for video in videos:
        _check_path(video.path, video.source)
    return videos


def _check_path(path: str, where: str) -> None:
    problem = path_problem(path)
    if problem is not None:
        raise PreparationError(
            f"{shown(where)}: video {shown(path)} cannot be listed: {problem}; rename it"
        )


def read_csv_table(path: str) -> list[Video]:
    """A CSV table with a header line ``path,label`` or ``path,label,split`` (any order), one
    video per line; blank lines are skipped.

    Raises:
        PreparationError: not UTF-8 text, a header without ``path`` and ``label`` or with another
            column, a line
            with too few or too many fields, an empty path or label, an unknown split, a
            path a split file cannot hold, or the same path twice (``file:line`` each).
    """
    with reading(path), open(path, encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise PreparationError(f"{path}: empty table; expected a header line 'path,label'")
        columns = _table_columns(path, [name.strip() for name in header])
        rows = []
        for fields in reader:
            where = f"{path}:{reader.line_num}"
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(columns):
                raise PreparationError(
                    f"{where}: {len(fields)} field(s) where the header has {len(columns)} "
                    f"({','.join(columns)}): {','.join(fields)!r}"
                )
            rows.append((where, dict(zip(columns, fields, strict=True))))
    return _table_videos(path, rows)


def read_json_table(path: str) -> list[Video]:
    """A JSON table: a list of objects ``{"path": ..., "label": ...[, "split": ...]}``.

    Raises:
        PreparationError: not valid JSON, not a list of such objects (``file: entry N``, from 0), an
            unknown split, a path a split file cannot hold, or the same path twice.
    """
    data = read_json_list(path, "{'path', 'label'} objects")
    rows = []
    for number, entry in enumerate(data):  # counted from 0, as JSON indexes a list
        where = f"{path}: entry {number}"
        if not isinstance(entry, dict) or not all(
            isinstance(value, str) for value in entry.values()
        ):
            raise PreparationError(f"{where}: expected an object of strings, got {entry!r}")
        _table_columns(where, list(entry))
        rows.append((where, entry))
    return _table_videos(path, rows)


def _table_columns(where: str, names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in TABLE_COLUMNS]
    missing = [name for name in TABLE_COLUMNS[:2] if name not in names]
    if unknown or missing or len(set(names)) < len(names):
        raise PreparationError(
            f"{where}: columns {','.join(names)!r}; expected 'path,label' or 'path,label,split'"
        )
    return names


def _table_videos(path: str, rows: Iterable[tuple[str, dict[str, str]]]) -> list[Video]:
    videos = []
    for where, row in rows:
        video_path, label, split = row["path"], row["label"].strip(), row.get("split", "").strip()
        if not video_path.strip() or not label:
            raise PreparationError(f"{where}: empty path or label: {row!r}")
        if split and split not in SPLITS:
            raise PreparationError(
                f"{where}: unknown split {split!r}; expected one of {', '.join(SPLITS)} "
                "(or nothing: split by hashing)"
            )
        _check_path(video_path, where)
        videos.append(Video(video_path, label, split or None, where))
    if not videos:
        raise PreparationError(f"{path}: no video listed")
    _check_unique_paths(videos)
    return videos


def _check_unique_paths(videos: list[Video]) -> None:
    """PreparationError naming both places when two videos have the same path (normalized:
    ``a/./b.mp4`` is ``a/b.mp4``)."""
    first: dict[str, Video] = {}
    for video in videos:
        key = os.path.normpath(video.path)
        if key in first:
            raise PreparationError(
                f"{video.source}: video {shown(video.path)} is listed twice (first at "
                f"{first[key].source})"
            )
        first[key] = video
