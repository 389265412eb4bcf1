"""A timeline's files: ``timeline.csv`` and ``timeline.json`` (per window: start and end in
seconds, skipped or not, the top-k classes) and ``timeline.png`` (the top classes' scores over
time, and the argmax as coloured segments), written as the windows come.

Memory stays flat however long the video: a window's row goes to the CSV and the JSON as soon
as it is scored (both temporary files until the end, so that an earlier timeline in the folder
is replaced only by a complete one), and its start, end and (K,) scores to a temporary
:class:`ScoreTrack` on disk that the picture reads back at the end, a few thousand windows at a
time. What stays in memory is one (K,) running maximum.
"""

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from timesformer.utils.file_io import atomic_write

FILES = ("timeline.csv", "timeline.json", "timeline.png")
"""The files of a timeline's folder."""


@dataclass
class TimelineEntry:
    """One window of a timeline: its number, start and end (seconds), its shown (K,) scores
    (None: skipped, a frame of it was lost, or the window was ``dropped`` because the model was
    behind a live source), their top-k ``{"label", "name", "score"}``, and whether the video is
    shorter than a window (``padded``)."""

    window: int
    start: float
    end: float
    scores: torch.Tensor | None
    top_k: list[dict]
    padded: bool = False
    dropped: bool = False

    @property
    def skipped(self) -> bool:
        return self.scores is None


@dataclass
class Timeline:
    """How a video's windows are made, how many there were (``windows``, ``skipped``,
    ``padded``), whether Ctrl-C ended the pass (``interrupted``) and what the user should know
    (``notes``)."""

    video: str
    window_seconds: float
    stride: float
    smooth: int
    top_k: int
    class_names: list[str] | None = None
    windows: int = 0
    skipped: int = 0
    padded: bool = False
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    def count(self, entry: TimelineEntry) -> None:
        """Count window ``entry`` in."""
        self.windows += 1
        self.skipped += entry.skipped
        self.padded |= entry.padded

    def header(self) -> dict:
        """The JSON fields before the windows."""
        return {
            "video": self.video,
            "window_s": self.window_seconds,
            "stride_s": self.stride,
            "smooth": self.smooth,
            "smoothing": _smoothing_text(self.smooth),
        }


def _smoothing_text(smooth: int) -> str:
    if smooth == 1:
        return "none: each window's own scores"
    return f"each window's scores are the mean of {smooth} windows' (centred), before the top-k"


def window_json(entry: TimelineEntry) -> dict:
    """A window of ``timeline.json``."""
    return {
        "window": entry.window,
        "start_s": round(entry.start, 6),
        "end_s": round(entry.end, 6),
        "skipped": entry.skipped,
        "dropped": entry.dropped,
        "padded": entry.padded,
        "top_k": entry.top_k,
    }


class ScoreTrack:
    """Every window's ``start, end, scores...`` as a float64 row of ``2 + num_classes`` values in
    a temporary file (a skipped window's scores: NaN), and ``peak``: the (K,) maximum of each
    class's score over the windows so far (None before the first scored one)."""

    def __init__(self, num_classes: int):
        self.width = 2 + num_classes
        self.rows = 0
        self.peak: np.ndarray | None = None
        self._file = tempfile.TemporaryFile(prefix="timeline_scores_")

    def add(self, entry: TimelineEntry) -> None:
        """Window ``entry``'s row."""
        if entry.scores is None:
            scores = np.full(self.width - 2, math.nan)
        else:
            scores = entry.scores.double().numpy()
            self.peak = scores if self.peak is None else np.maximum(self.peak, scores)
        np.concatenate([[entry.start, entry.end], scores]).tofile(self._file)
        self.rows += 1

    def chunks(self, columns: list[int], rows: int = 4096) -> Iterator[np.ndarray]:
        """The track's ``columns`` (0: start, 1: end, ``2 + c``: class c's score) in window
        order, (n, len(columns)) float64 per chunk of n <= ``rows`` windows."""
        self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(rows * self.width * 8):
            yield np.frombuffer(chunk, dtype=np.float64).reshape(-1, self.width)[:, columns]
        self._file.seek(0, os.SEEK_END)

    def argmax_runs(self) -> list[tuple[float, float, int]]:
        """Runs of consecutive windows with the same argmax (-1: skipped): ``(start, end,
        label)``, a run ending where the next one starts (the last: at its last window's
        end)."""
        runs: list[list] = []
        for chunk in self.chunks(list(range(self.width))):
            scores = chunk[:, 2:]
            skipped = np.isnan(scores).any(axis=1)
            labels = np.where(skipped, -1, np.nan_to_num(scores, nan=-1.0).argmax(axis=1))
            for start, end, label in zip(chunk[:, 0], chunk[:, 1], labels.tolist(), strict=True):
                if runs and runs[-1][2] == label:
                    runs[-1][1] = end
                    continue
                if runs:
                    runs[-1][1] = start
                runs.append([start, end, label])
        return [(start, end, label) for start, end, label in runs]

    def close(self) -> None:
        self._file.close()


class TimelineWriter:
    """Writes :data:`FILES` into ``folder`` as windows come (:meth:`add`); a context manager:
    leaving the block finishes them (the JSON's ``notes``: ``timeline.notes`` by then) and only
    then replaces an earlier timeline there; leaving it by an exception leaves the folder as
    it was."""

    def __init__(self, timeline: Timeline, folder: str, num_classes: int):
        self.timeline = timeline
        self.paths = [os.path.join(folder, name) for name in FILES]
        self.track = ScoreTrack(num_classes)
        self._files = ExitStack()
        self._files.callback(self.track.close)
        self._csv_file = self._files.enter_context(atomic_write(self.paths[0], binary=False))
        self._json = self._files.enter_context(atomic_write(self.paths[1], binary=False))
        self._csv = csv.writer(self._csv_file, lineterminator="\n")
        self._csv.writerow(csv_header(timeline.top_k))
        header = json.dumps(timeline.header(), indent=2)
        self._json.write(header[: header.rindex("}")].rstrip() + ',\n  "windows": [')

    def add(self, entry: TimelineEntry) -> None:
        """Window ``entry``'s row in each file."""
        self._csv.writerow(csv_row(entry, self.timeline))
        separator = "," if self.timeline.windows else ""
        self._json.write(f"{separator}\n    {json.dumps(window_json(entry))}")
        self.track.add(entry)
        self.timeline.count(entry)

    def __enter__(self) -> "TimelineWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is not None:
            self._files.__exit__(*exc_info)  # the temporary files removed
            return
        with self._files:  # the CSV and the JSON renamed into place, if the PNG is written
            notes = json.dumps(self.timeline.notes)
            self._json.write(f'\n  ],\n  "notes": {notes}\n}}\n')
            with atomic_write(self.paths[2]) as stream:
                timeline_figure(self.timeline, self.track).savefig(stream, format="png", dpi=100)


_RANK_FIELDS = ("label", "name", "score")


def csv_header(top_k: int) -> list[str]:
    """``window, start_s, end_s, skipped, dropped, padded, smooth``, then ``label_i, name_i,
    score_i`` for i = 1 .. top_k."""
    ranks = [f"{what}_{rank}" for rank in range(1, top_k + 1) for what in _RANK_FIELDS]
    return ["window", "start_s", "end_s", "skipped", "dropped", "padded", "smooth", *ranks]


def csv_row(entry: TimelineEntry, timeline: Timeline) -> list:
    """Window ``entry``'s row of ``timeline.csv`` (the top-k empty for a skipped window)."""
    ranked = [
        "" if entry_rank.get(what) is None else entry_rank[what]
        for entry_rank in entry.top_k
        for what in _RANK_FIELDS
    ]
    ranked += [""] * (len(_RANK_FIELDS) * timeline.top_k - len(ranked))
    return [
        entry.window,
        f"{entry.start:.3f}",
        f"{entry.end:.3f}",
        int(entry.skipped),
        int(entry.dropped),
        int(entry.padded),
        timeline.smooth,
        *(f"{value:.6f}" if isinstance(value, float) else value for value in ranked),
    ]


def timeline_figure(timeline: Timeline, track: ScoreTrack, max_classes: int = 5) -> Figure:
    """Above: the scores over time (at each window's centre; gaps at skipped windows) of the
    ``min(top_k, max_classes)`` classes with the highest scores; below: the argmax of each run
    of windows, from its first window's start to the next run's start, coloured by class, with
    a legend."""
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    scores_axis, argmax_axis = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    if track.peak is not None:
        count = min(timeline.top_k, max_classes, len(track.peak))
        shown = np.argsort(-track.peak, kind="stable")[:count].tolist()
        columns = np.concatenate(list(track.chunks([0, 1, *(2 + c for c in shown)])))
        centres = (columns[:, 0] + columns[:, 1]) / 2
        for position, label in enumerate(shown):
            scores_axis.plot(
                centres, columns[:, 2 + position], marker=".", label=_name(timeline, label)
            )
        scores_axis.legend(loc="upper right", fontsize=8)
    scores_axis.set_ylabel("score")
    scores_axis.set_ylim(0, 1.02)
    title = os.path.basename(timeline.video)
    if timeline.smooth > 1:
        title += f" (scores: centred mean of {timeline.smooth} windows)"
    scores_axis.set_title(title, fontsize=10)
    _draw_argmax(argmax_axis, timeline, track.argmax_runs())
    argmax_axis.set_xlabel("time (s)")
    argmax_axis.set_yticks([])
    return figure


def _draw_argmax(axis, timeline: Timeline, runs: list[tuple[float, float, int]]) -> None:
    """One bar per run: grey for skipped windows, else the colour of its class."""
    palette = [f"C{i}" for i in range(10)]
    colors: dict[int, str] = {}
    spans: dict[int, list[tuple[float, float]]] = {}
    for start, end, label in runs:
        if label >= 0:
            colors.setdefault(label, palette[len(colors) % len(palette)])
        spans.setdefault(label, []).append((start, end - start))
    for label, ranges in spans.items():
        axis.broken_barh(ranges, (0, 1), color=colors.get(label, "lightgray"))
    handles = [Patch(color=color, label=_name(timeline, label)) for label, color in colors.items()]
    if -1 in spans:
        handles.append(Patch(color="lightgray", label="skipped"))
    if handles:
        axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


def _name(timeline: Timeline, label: int) -> str:
    return timeline.class_names[label] if timeline.class_names else str(label)
