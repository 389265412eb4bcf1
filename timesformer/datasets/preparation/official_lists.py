"""The official lists of the public datasets, read into one shape: each video's expected file
name, official class id and split, with the classes in the official label order.

Formats (:data:`OFFICIAL_FORMATS`): ``kinetics`` (the Kinetics-400/600/700 annotation CSVs),
``ssv2`` (Something-Something v2's JSON files), ``ucf101`` and ``hmdb51`` (their published
split files: :mod:`~timesformer.datasets.preparation.published_lists`).
"""

import csv
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from timesformer.datasets.preparation.errors import PreparationError, read_json_list, reading
from timesformer.datasets.ssv2_files import read_label_names, read_video_labels

SPLIT_NAMES = {
    "train": "train",
    "val": "val",
    "validate": "val",
    "validation": "val",
    "test": "test",
}
"""The split names the official lists use -> the split (and split file) they are here."""

SSV2_FILE = "something-something-v2-{}.json"
"""Something-Something v2's files: ``train``, ``validation``, ``test`` and ``labels``."""


@dataclass(frozen=True)
class OfficialVideo:
    """One video of an official list.

    Attributes:
        name: its file name in the official layout, relative to the dataset's folder
            (``abc_000010_000020.mp4``, ``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi``).
            A tree may hold it anywhere, with any video extension: it is looked up by
            :attr:`stem`.
        label: its official class id, or None where the list gives none (Kinetics test).
        split: "train", "val" or "test".
        source: where the list gives it (``file:line``), for messages.
    """

    name: str
    label: int | None
    split: str
    source: str

    @property
    def stem(self) -> str:
        """The file name without folder and extension: the key the tree is searched by."""
        return os.path.splitext(os.path.basename(self.name))[0]


@dataclass
class OfficialList:
    """The videos of a dataset's official lists, and its classes.

    Attributes:
        class_names: the class names in official label order (id i: ``class_names[i]``).
        videos: every video listed, in list order; stems unique.
        known_stems: stems of further videos the dataset has but these lists leave out
            (HMDB51's videos of the other splits): not extra when found.
    """

    class_names: list[str]
    videos: list[OfficialVideo]
    known_stems: frozenset[str] = frozenset()


OfficialReader = Callable[[str, int], OfficialList]
"""``reader(path, split_number) -> OfficialList``: ``path`` the list file or its folder,
``split_number`` which of UCF101's / HMDB51's three splits (the other formats have one)."""

OFFICIAL_FORMATS: dict[str, OfficialReader] = {}
"""``--format`` name -> its reader."""


def official_format(name: str) -> Callable[[OfficialReader], OfficialReader]:
    """Register a reader under ``name`` in :data:`OFFICIAL_FORMATS`."""

    def register(reader: OfficialReader) -> OfficialReader:
        OFFICIAL_FORMATS[name] = reader
        return reader

    return register


def split_of(name: str, where: str) -> str:
    """The split an official split name stands for (``validate`` -> ``val``).

    Raises:
        PreparationError: an unknown name, naming ``where``.
    """
    if name.strip().lower() not in SPLIT_NAMES:
        raise PreparationError(
            f"{where}: unknown split {name!r}; expected one of {', '.join(SPLIT_NAMES)}"
        )
    return SPLIT_NAMES[name.strip().lower()]


def unique_videos(videos: Iterable[OfficialVideo]) -> list[OfficialVideo]:
    """``videos`` as a list, checked to name each video (stem) once.

    Raises:
        PreparationError: a video listed twice, naming both places.
    """
    first: dict[str, OfficialVideo] = {}
    for video in videos:
        if video.stem in first:
            raise PreparationError(
                f"{video.source}: video {video.stem!r} is listed twice (first at "
                f"{first[video.stem].source})"
            )
        first[video.stem] = video
    return list(first.values())


def list_files(path: str, wanted: Callable[[str], bool], what: str) -> list[str]:
    """``[path]`` for a file; for a folder, its files whose names are ``wanted``, sorted.

    Raises:
        PreparationError: ``path`` does not exist, or the folder holds no such file (``what``
            says which files were expected).
    """
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise PreparationError(f"{path}: no such file or folder (--official)")
    files = sorted(os.path.join(path, name) for name in os.listdir(path) if wanted(name))
    if not files:
        raise PreparationError(f"{path}: no official list found; expected {what}")
    return files


@official_format("kinetics")
def read_kinetics(path: str, split_number: int) -> OfficialList:
    """Kinetics-400/600/700 annotation CSVs (a file, or every ``.csv`` of a folder): header
    ``label,youtube_id,time_start,time_end,split`` (any order, other columns ignored; the test
    lists lack ``label``, and ``split`` defaults to the file's name: ``validate.csv`` -> val).
    Video ``{youtube_id}_{time_start:06d}_{time_end:06d}.mp4``; classes: the labels sorted by
    name (the official label order). ``split_number`` is unused (Kinetics has one split).

    Raises:
        PreparationError: a header without youtube_id, time_start and time_end, a line without
            them, times that are not whole numbers, an unknown split, a video listed twice.
    """
    del split_number
    files = list_files(path, lambda name: name.lower().endswith(".csv"), "Kinetics CSV files")
    rows: list[tuple[str, str | None, str, str]] = []  # (stem, label, split, where)
    for file in files:
        rows += _kinetics_rows(file)
    class_names = sorted({label for _, label, _, _ in rows if label is not None})
    ids = {name: class_id for class_id, name in enumerate(class_names)}
    videos = (
        OfficialVideo(f"{stem}.mp4", None if label is None else ids[label], split, where)
        for stem, label, split, where in rows
    )
    return OfficialList(class_names, unique_videos(videos))


def _kinetics_rows(file: str) -> list[tuple[str, str | None, str, str]]:
    with reading(file), open(file, encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [key for key in ("youtube_id", "time_start", "time_end") if key not in header]
        if missing:
            raise PreparationError(
                f"{file}:1: header {','.join(header)!r} lacks {', '.join(missing)}; expected "
                "'label,youtube_id,time_start,time_end,split'"
            )
        reader.fieldnames = header
        named_split = None  # without a split column, the file's name gives it (validate.csv)
        if "split" not in header:
            stem = os.path.splitext(os.path.basename(file))[0]
            named_split = split_of(stem, f"{file} (no split column, so its name gives the split)")
        rows = []
        for row in reader:
            where = f"{file}:{reader.line_num}"
            if not any((value or "").strip() for value in row.values()):
                continue
            youtube_id = (row["youtube_id"] or "").strip()
            if not youtube_id:
                raise PreparationError(f"{where}: no youtube_id: {row!r}")
            start, end = (_whole(row[key], key, where) for key in ("time_start", "time_end"))
            label = (row.get("label") or "").strip() or None
            split = named_split or split_of(row["split"] or "", where)
            rows.append((f"{youtube_id}_{start:06d}_{end:06d}", label, split, where))
    return rows


def _whole(text: str | None, key: str, where: str) -> int:
    try:
        value = float(text or "")
    except ValueError:
        value = float("nan")
    if not value.is_integer() or value < 0:
        raise PreparationError(f"{where}: {key} {text!r}; expected a whole number of seconds")
    return int(value)


@official_format("ssv2")
def read_ssv2(path: str, split_number: int) -> OfficialList:
    """Something-Something v2: ``something-something-v2-{train,validation,test}.json`` (a file,
    or those of a folder), the class ids from ``something-something-v2-labels.json`` beside
    them (test: ids only, no label). Video ``{id}.webm``. ``split_number`` is unused.

    Raises:
        PreparationError: no such files, or a malformed one (``file: entry N``, N counted from
            0 as in the annotation readers' messages); a video listed twice. The annotation
            readers' errors (templates, labels: SplitFileError) name the file too.
    """
    del split_number
    parts = {SSV2_FILE.format(part): part for part in ("train", "validation", "test")}
    files = list_files(path, lambda name: name in parts, ", ".join(parts))
    unknown = [file for file in files if os.path.basename(file) not in parts]
    if unknown:
        raise PreparationError(f"{unknown[0]}: expected one of {', '.join(parts)}")
    labels_file = os.path.join(os.path.dirname(files[0]), SSV2_FILE.format("labels"))
    labelled = any(parts[os.path.basename(file)] != "test" for file in files)
    label_names, class_names = (
        _ssv2_classes(labels_file) if labelled or os.path.isfile(labels_file) else ({}, [])
    )
    videos = []
    for file in files:
        part = parts[os.path.basename(file)]
        if part == "test":
            videos += _ssv2_test_videos(file)
            continue
        videos += [
            OfficialVideo(f"{video_id}.webm", label, split_of(part, file), f"{file}: entry {n}")
            for n, (video_id, label) in enumerate(read_video_labels(file, label_names))
        ]
    return OfficialList(class_names, unique_videos(videos))


def _ssv2_classes(path: str) -> tuple[dict[str, int], list[str]]:
    """(template -> id, names in id order) of the labels file; ids must be 0..K-1."""
    if not os.path.isfile(path):
        raise PreparationError(f"{path}: SSv2 labels file not found (it gives the class ids)")
    label_names = read_label_names(path, num_classes=2**31)  # no bound: checked below
    names = sorted(label_names, key=label_names.__getitem__)
    if [label_names[name] for name in names] != list(range(len(names))):
        raise PreparationError(f"{path}: class ids must be 0..{len(names) - 1}, each used once")
    return label_names, names


def _ssv2_test_videos(path: str) -> list[OfficialVideo]:
    entries = read_json_list(path, "{'id': ...} objects")
    videos = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not str(entry.get("id", "")).strip():
            raise PreparationError(f"{path}: entry {number} has no 'id': {entry!r}")
        videos.append(OfficialVideo(f"{entry['id']}.webm", None, "test", f"{path}: entry {number}"))
    return videos
