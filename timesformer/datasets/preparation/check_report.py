"""The result of checking a tree against an official list: counts per class and overall, the
lists of missing, unreadable and extra videos, as a table, as JSON, and as split files of the
videos that can be trained on."""

from dataclasses import dataclass

from timesformer.datasets.preparation.completeness import NO_LABEL, Located
from timesformer.datasets.preparation.official_lists import OfficialVideo
from timesformer.datasets.preparation.text_table import table_lines

COUNTS = ("listed", "present", "missing", "unreadable")
"""The counts of each class: videos listed, present in the tree (readable or not), missing,
present but unreadable."""


@dataclass
class CheckReport:
    """A tree checked against an official list.

    Attributes:
        class_names: the official class names, in label order.
        located: where the listed videos are (:func:`~.completeness.locate`).
        unreadable: path -> reason, of the present videos that do not decode to the end.
        decoded: whether the present videos were decoded (not with ``--no-decode``).
    """

    class_names: list[str]
    located: Located
    unreadable: dict[str, str]
    decoded: bool = True

    @property
    def complete(self) -> bool:
        """Nothing missing, nothing unreadable (extra videos do not count)."""
        return not self.located.missing and not self.unreadable

    def class_of(self, video: OfficialVideo) -> str:
        """The name of ``video``'s class (:data:`~.completeness.NO_LABEL` without a label)."""
        return NO_LABEL if video.label is None else self.class_names[video.label]

    def per_class(self) -> dict[str, dict[str, int]]:
        """class name -> :data:`COUNTS`, for every class with a listed video, sorted by name."""
        counts: dict[str, dict[str, int]] = {}

        def count(video: OfficialVideo, *keys: str) -> None:
            entry = counts.setdefault(self.class_of(video), dict.fromkeys(COUNTS, 0))
            for key in ("listed", *keys):
                entry[key] += 1

        for video, path in self.located.found:
            count(video, "present", *(("unreadable",) if path in self.unreadable else ()))
        for video in self.located.missing:
            count(video, "missing")
        return dict(sorted(counts.items()))

    def overall(self) -> dict[str, int]:
        """:data:`COUNTS` over all classes, and ``extra``: the tree's videos no list names."""
        totals = dict.fromkeys(COUNTS, 0)
        for entry in self.per_class().values():
            for key in COUNTS:
                totals[key] += entry[key]
        return {**totals, "extra": len(self.located.extra)}

    def table(self, all_classes: bool = False) -> list[str]:
        """Lines of a table of the classes (with ``all_classes``, every class; else those with a
        video missing or unreadable) and the overall counts."""
        rows = [
            [name, *entry.values()]
            for name, entry in self.per_class().items()
            if all_classes or entry["missing"] or entry["unreadable"]
        ]
        overall = self.overall()
        return table_lines(["class", *COUNTS], [*rows, ["overall", *map(overall.get, COUNTS)]])

    def to_json(self, **about: object) -> dict:
        """The report as JSON data: ``about`` (what was checked: tree, official list...),
        ``complete``, ``decoded``, the counts overall and per class, and the lists: missing
        (official name, class, split), unreadable (path in the tree, class, split, reason),
        extra (paths in the tree)."""
        return {
            **about,
            "complete": self.complete,
            "decoded": self.decoded,
            "overall": self.overall(),
            "classes": self.per_class(),
            "missing": [
                {"name": video.name, "class": self.class_of(video), "split": video.split}
                for video in self.located.missing
            ],
            "unreadable": [
                {
                    "path": path,
                    "class": self.class_of(video),
                    "split": video.split,
                    "reason": self.unreadable[path],
                }
                for video, path in self.located.found
                if path in self.unreadable
            ],
            "extra": self.located.extra,
        }

    def trainable_lines(self) -> tuple[dict[str, list[tuple[str, int]]], int]:
        """(split -> [(path in the tree, official label)] of the present, readable, labelled
        videos, for each split that has one; how many readable videos had no label)."""
        lines: dict[str, list[tuple[str, int]]] = {}
        unlabelled = 0
        for video, path in self.located.found:
            if path in self.unreadable:
                continue
            if video.label is None:
                unlabelled += 1
                continue
            lines.setdefault(video.split, []).append((path, video.label))
        return lines, unlabelled
