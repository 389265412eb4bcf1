"""The official lists of UCF101 and HMDB51 (the split files they are published with, read by
:mod:`timesformer.datasets.published_splits`) as an
:class:`~timesformer.datasets.preparation.official_lists.OfficialList`."""

import os

from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.official_lists import (
    OfficialList,
    OfficialVideo,
    official_format,
    unique_videos,
)
from timesformer.datasets.published_splits import (
    HMDB51_SPLIT_FILE,
    UCF101_CLASS_FILE,
    UCF101_TEST_LIST,
    UCF101_TRAIN_LIST,
    read_hmdb51_split,
    read_ucf101_classes,
    read_ucf101_list,
)

SPLIT_NUMBERS = (1, 2, 3)
"""The three train/test splits UCF101 and HMDB51 are published with."""


def _split_folder(path: str, what: str) -> str:
    """The folder of the split files: ``path``, or the folder of the file ``path``."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    if not os.path.exists(path) or not os.path.isdir(folder or "."):
        raise PreparationError(f"{path}: no such file or folder (--official: {what})")
    return folder or "."


def _check_split_number(split_number: int) -> None:
    if split_number not in SPLIT_NUMBERS:
        raise PreparationError(f"--split-number {split_number}: expected 1, 2 or 3")


@official_format("ucf101")
def read_ucf101(path: str, split_number: int) -> OfficialList:
    """UCF101: ``classInd.txt``, ``trainlist0N.txt`` and ``testlist0N.txt`` (N: ``split_number``)
    of the folder ``path`` (ucfTrainTestlist; or a file in it). Videos
    ``Class/v_Class_gGG_cCC.avi``; class ids from classInd.txt (its 1 is id 0).

    Raises:
        PreparationError: ``path`` or a list missing, a bad split number. The list readers'
            errors (SplitFileError: ``file:line: problem: 'text'``) pass through.
    """
    _check_split_number(split_number)
    folder = _split_folder(path, "the ucfTrainTestlist folder")
    class_names = read_ucf101_classes(os.path.join(folder, UCF101_CLASS_FILE))
    videos = []
    for split, pattern in (("train", UCF101_TRAIN_LIST), ("test", UCF101_TEST_LIST)):
        list_file = os.path.join(folder, pattern.format(split_number=split_number))
        videos += [
            OfficialVideo(name, label, split, f"{list_file}: video {number}")
            for number, (name, label) in enumerate(
                read_ucf101_list(list_file, class_names), start=1
            )
        ]
    return OfficialList(class_names, unique_videos(videos))


@official_format("hmdb51")
def read_hmdb51(path: str, split_number: int) -> OfficialList:
    """HMDB51: the split files ``{class}_test_split{N}.txt`` of the folder ``path`` (the
    extracted test_train_splits.rar; or a file in it), N: ``split_number``; videos marked 1
    are train, 2 test. Videos ``class/name.avi``; classes sorted by name. The videos the other
    splits list (those this one marks 0, unused) are known: found, they are not extra.

    Raises:
        PreparationError: ``path`` missing, a bad split number. The split readers' errors
            (SplitFileError: ``file:line: problem: 'text'``) pass through.
    """
    _check_split_number(split_number)
    folder = _split_folder(path, "the folder of the HMDB51 split files")
    class_names, videos = _hmdb51_videos(folder, split_number)
    known: set[str] = set()
    for other in SPLIT_NUMBERS:
        suffix = HMDB51_SPLIT_FILE.format(class_name="", split_number=other)
        if other != split_number and any(name.endswith(suffix) for name in os.listdir(folder)):
            known |= {video.stem for video in _hmdb51_videos(folder, other)[1]}
    return OfficialList(class_names, unique_videos(videos), frozenset(known))


def _hmdb51_videos(folder: str, split_number: int) -> tuple[list[str], list[OfficialVideo]]:
    source = os.path.join(
        folder, HMDB51_SPLIT_FILE.format(class_name="*", split_number=split_number)
    )
    class_names: list[str] = []
    videos: list[OfficialVideo] = []
    for split in ("train", "test"):
        class_names, listed = read_hmdb51_split(folder, split_number, split)
        videos += [
            OfficialVideo(name, label, split, f"{source} ({split} video {number})")
            for number, (name, label) in enumerate(listed, start=1)
        ]
    return class_names, videos
