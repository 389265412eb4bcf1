"""A timeline's files: ``timeline.csv`` and ``timeline.json`` (per window: start and end in
seconds, skipped or not, the top-k classes) and ``timeline.png`` (the top classes' scores over
time, and the argmax as coloured segments), each written atomically."""

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from timesformer.utils.file_io import atomic_write

FILES = ("timeline.csv", "timeline.json", "timeline.png")
"""The files of a timeline's folder."""


@dataclass
class TimelineEntry:
    """One window of a timeline: its number, start and end (seconds), its shown (K,) scores
    (None: skipped, a frame of it could not be decoded), their top-k ``{"label", "name",
    "score"}``, and whether the video is shorter than a window (``padded``)."""

    window: int
    start: float
    end: float
    scores: torch.Tensor | None
    top_k: list[dict]
    padded: bool = False

    @property
    def skipped(self) -> bool:
        return self.scores is None


@dataclass
class Timeline:
    """The windows of a video, how they were made, and what the user should know (``notes``)."""

    video: str
    window_seconds: float
    stride: float
    smooth: int
    top_k: int
    entries: list[TimelineEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    class_names: list[str] | None = None

    def as_json(self) -> dict:
        return {
            "video": self.video,
            "window_s": self.window_seconds,
            "stride_s": self.stride,
            "smooth": self.smooth,
            "smoothing": _smoothing_text(self.smooth),
            "windows": [
                {
                    "window": entry.window,
                    "start_s": round(entry.start, 6),
                    "end_s": round(entry.end, 6),
                    "skipped": entry.skipped,
                    "padded": entry.padded,
                    "top_k": entry.top_k,
                }
                for entry in self.entries
            ],
            "notes": self.notes,
        }


def _smoothing_text(smooth: int) -> str:
    if smooth == 1:
        return "none: each window's own scores"
    return f"each window's scores are the mean of {smooth} windows' (centred), before the top-k"


def write_timeline(timeline: Timeline, folder: str) -> list[str]:
    """Write :data:`FILES` of ``timeline`` into ``folder`` (created); returns their paths."""
    paths = [os.path.join(folder, name) for name in FILES]
    with atomic_write(paths[0], binary=False) as stream:
        stream.write(timeline_csv(timeline))
    with atomic_write(paths[1], binary=False) as stream:
        json.dump(timeline.as_json(), stream, indent=2)
        stream.write("\n")
    with atomic_write(paths[2]) as stream:
        timeline_figure(timeline).savefig(stream, format="png", dpi=100)
    return paths


def timeline_csv(timeline: Timeline) -> str:
    """One row per window: ``window, start_s, end_s, skipped, padded, smooth``, then
    ``label_i, name_i, score_i`` for the top-k (empty for a skipped window)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    ranks = [f"{what}_{rank}" for rank in range(1, timeline.top_k + 1) for what in _RANK_FIELDS]
    writer.writerow(["window", "start_s", "end_s", "skipped", "padded", "smooth", *ranks])
    for entry in timeline.entries:
        ranked = [
            "" if entry_rank.get(what) is None else entry_rank[what]
            for entry_rank in entry.top_k
            for what in _RANK_FIELDS
        ]
        ranked += [""] * (len(ranks) - len(ranked))
        writer.writerow(
            [
                entry.window,
                f"{entry.start:.3f}",
                f"{entry.end:.3f}",
                int(entry.skipped),
                int(entry.padded),
                timeline.smooth,
                *(f"{value:.6f}" if isinstance(value, float) else value for value in ranked),
            ]
        )
    return text.getvalue()


_RANK_FIELDS = ("label", "name", "score")


def timeline_figure(timeline: Timeline, max_classes: int = 5) -> Figure:
    """Above: the scores over time (at each window's centre; gaps at skipped windows) of the
    ``min(top_k, max_classes)`` classes with the highest scores; below: the argmax of each
    window, from its start to the next window's start (its own end for the last), coloured by
    class, with a legend."""
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    scores_axis, argmax_axis = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    entries = timeline.entries
    known = [entry.scores for entry in entries if entry.scores is not None]
    centres = [(entry.start + entry.end) / 2 for entry in entries]
    if known:
        peak = torch.stack(known).amax(dim=0)
        shown = peak.topk(min(timeline.top_k, max_classes, peak.numel())).indices.tolist()
        for label in shown:
            values = [math.nan if e.scores is None else float(e.scores[label]) for e in entries]
            scores_axis.plot(centres, values, marker=".", label=_name(timeline, label))
        scores_axis.legend(loc="upper right", fontsize=8)
    scores_axis.set_ylabel("score")
    scores_axis.set_ylim(0, 1.02)
    title = os.path.basename(timeline.video)
    if timeline.smooth > 1:
        title += f" (scores: centred mean of {timeline.smooth} windows)"
    scores_axis.set_title(title, fontsize=10)
    _draw_argmax(argmax_axis, timeline)
    argmax_axis.set_xlabel("time (s)")
    argmax_axis.set_yticks([])
    return figure


def _draw_argmax(axis, timeline: Timeline) -> None:
    entries, colors = timeline.entries, dict[int, str]()
    palette = [f"C{i}" for i in range(10)]
    for position, entry in enumerate(entries):
        end = entries[position + 1].start if position + 1 < len(entries) else entry.end
        if entry.scores is None:
            axis.broken_barh([(entry.start, end - entry.start)], (0, 1), color="lightgray")
            continue
        label = int(entry.scores.argmax())
        color = colors.setdefault(label, palette[len(colors) % len(palette)])
        axis.broken_barh([(entry.start, end - entry.start)], (0, 1), color=color)
    handles = [Patch(color=color, label=_name(timeline, label)) for label, color in colors.items()]
    if any(entry.skipped for entry in entries):
        handles.append(Patch(color="lightgray", label="skipped"))
    if handles:
        axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


def _name(timeline: Timeline, label: int) -> str:
    return timeline.class_names[label] if timeline.class_names else str(label)
