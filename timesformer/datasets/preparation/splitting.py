"""Splitting videos into train / val / test so that a video's split never depends on the others.

Each video's split comes from a hash of (seed, class name, path) alone, mapped to a number in
[0, 1) and compared with the cumulative fractions: adding videos (or removing some) never moves
another video to another split, and each class is split on its own (stratified). The fractions
are met in expectation, and per class up to the rounding of a small count: a class of 10 videos
at 0.8 / 0.1 / 0.1 may well get 9 / 0 / 1.
"""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.listing import SPLITS, Video

_HASH_SCALE = 2.0**64


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """``fractions`` (train, val, test) checked: three numbers >= 0 summing to 1, train > 0.

    Raises:
        PreparationError: what is wrong with them.
    """
    if len(fractions) != len(SPLITS) or not all(math.isfinite(f) and f >= 0 for f in fractions):
        raise PreparationError(
            f"--fractions {' '.join(map(str, fractions))}: expected three numbers >= 0 "
            "(train val test)"
        )
    if abs(sum(fractions) - 1.0) > 1e-6 or fractions[0] <= 0:
        raise PreparationError(
            f"--fractions {' '.join(map(str, fractions))}: they sum to {sum(fractions):g}; "
            "expected a sum of 1, with a train fraction above 0"
        )
    return tuple(fractions)


def hashed_position(seed: int, video: Video) -> float:
    """A number in [0, 1), uniform over videos, fixed by ``seed``, the class and the path."""
    key = f"{seed}\0{video.class_name}\0{video.path}".encode("utf-8")
    digest = hashlib.sha256(key).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SCALE


def hashed_split(seed: int, video: Video, fractions: Sequence[float]) -> str:
    """The split of ``video`` by its :func:`hashed_position` against the cumulative
    ``fractions`` (train, val, test)."""
    position, bound = hashed_position(seed, video), 0.0
    for split, fraction in zip(SPLITS, fractions, strict=True):
        bound += fraction
        if position < bound:
            return split
    return SPLITS[-1]  # the bounds sum to 1 up to rounding


@dataclass
class Assignment:
    """Each video's split, and how it was decided.

    Attributes:
        splits: path -> split, for every video.
        kept: paths whose split an existing split file gave (``--update``).
        given: paths whose split the table gave.
        removed: paths of the existing split files no longer among the videos.
    """

    splits: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    given: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        """How many videos were split by hashing."""
        return len(self.splits) - len(self.kept) - len(self.given)


def assign_splits(
    videos: list[Video],
    fractions: Sequence[float],
    seed: int,
    existing: dict[str, str] | None = None,
) -> Assignment:
    """Each video's split: the table's when it gives one, else the one ``existing`` (path ->
    split, from the split files already written) gives, else :func:`hashed_split`."""
    existing = existing or {}
    assignment = Assignment()
    for video in videos:
        if video.split is not None:
            assignment.splits[video.path] = video.split
            assignment.given.append(video.path)
        elif video.path in existing:
            assignment.splits[video.path] = existing[video.path]
            assignment.kept.append(video.path)
        else:
            assignment.splits[video.path] = hashed_split(seed, video, fractions)
    assignment.removed = sorted(set(existing) - set(assignment.splits))
    return assignment


def counts_per_class(videos: list[Video], splits: dict[str, str]) -> dict[str, dict[str, int]]:
    """class name -> split -> number of its videos, every split present (0 when none)."""
    counts: dict[str, dict[str, int]] = {}
    for video in videos:
        per_split = counts.setdefault(video.class_name, dict.fromkeys(SPLITS, 0))
        per_split[splits[video.path]] += 1
    return counts
