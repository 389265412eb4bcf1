"""A folder of per-video feature files and its index, written so that a crash loses nothing.

Layout of ``root``::

    index.jsonl               one JSON line per finished video:
                              {"video": PATH, "label": INT, [INT, ...] or null, "file": NAME,
                               "shape": [...], "per_clip": BOOL}
                              or, for a feature timeline (features per sliding window):
                              {"video": PATH, "label": ..., "file": NAME, "shape": [N, D],
                               "window_s": FLOAT, "stride_s": FLOAT, "starts_s": [FLOAT] * N,
                               "skipped": [K, ...], "padded": BOOL, "duration_s": FLOAT}
    features/NAME             one .npy (NumPy) or .pt (torch) array per video

A timeline's array is (N, D) float32: row k is the CLS feature of window k, which starts at
``starts_s[k]`` (= k * stride_s) seconds and lasts ``window_s`` seconds (a ``padded`` video,
shorter than one window, has one window over its ``duration_s`` seconds, its last frame
repeated). The rows of the windows in ``skipped`` (frames that could not be decoded) are NaN.
A timeline's line has no "per_clip"; its "stride_s" tells it apart.

Each array is written to a temporary name and renamed, then its index line is
appended and flushed: a video is finished exactly when its line is in the
index, so a rerun skips the finished videos and redoes an interrupted one.
Finished means of the same kind: per video, per clip, or a timeline of the same stride.
"""

import hashlib
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from timesformer.utils.file_io import atomic_write
from timesformer.utils.logging import get_logger
from timesformer.utils.output_formats import FEATURE_FORMATS

if TYPE_CHECKING:
    from timesformer.engine.feature_timeline import FeatureTimeline

logger = get_logger(__name__)

INDEX_FILE = "index.jsonl"
FEATURES_DIR = "features"


class FeatureStore:
    """Feature files of videos under ``root`` in ``file_format`` ("npy" or "pt")."""

    def __init__(self, root: str, file_format: str = "npy"):
        if file_format not in FEATURE_FORMATS:
            raise ValueError(
                f"Feature format is {file_format!r}; expected one of {', '.join(FEATURE_FORMATS)}."
            )
        self.root = root
        self.file_format = file_format
        os.makedirs(os.path.join(root, FEATURES_DIR), exist_ok=True)

    @property
    def index_path(self) -> str:
        return os.path.join(self.root, INDEX_FILE)

    def entries(self) -> list[dict]:
        """The index lines (a torn last line, from a crash while appending, is ignored)."""
        if not os.path.isfile(self.index_path):
            return []
        entries = []
        with open(self.index_path, encoding="utf-8") as stream:
            for line_number, line in enumerate(stream, start=1):
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    logger.warning(
                        "%s line %d is incomplete; that video is redone.",
                        self.index_path,
                        line_number,
                    )
        return entries

    def finished(self, per_clip: bool) -> set[str]:
        """Videos whose features of this kind (per clip or per video) and format are stored."""
        return self._finished(lambda entry: entry.get("per_clip") == per_clip)

    def finished_timelines(self, stride_s: float) -> set[str]:
        """Videos whose feature timeline of windows ``stride_s`` seconds apart, in this format,
        is stored."""
        return self._finished(lambda entry: entry.get("stride_s") == stride_s)

    def add(
        self, video: str, label: int | list[int] | None, features: torch.Tensor, per_clip: bool
    ) -> str:
        """Store ``features`` of ``video`` atomically, then record it in the index; returns the file
        name. ``label``: its class id, its class ids (DATA.MULTI_LABEL), or None (unknown)."""
        name = self._file_name(video, str(per_clip))
        return self._store(video, label, features, name, {"per_clip": per_clip})

    def add_timeline(
        self, video: str, label: int | list[int] | None, timeline: "FeatureTimeline"
    ) -> str:
        """Store the feature timeline of ``video`` (its (N, D) features) atomically, then record
        it in the index with its windows' times; returns the file name. ``label``: as
        :meth:`add`'s."""
        name = self._file_name(video, f"windows every {timeline.stride_s!r} s")
        times = {
            "window_s": timeline.window_s,
            "stride_s": timeline.stride_s,
            "starts_s": timeline.starts_s,
            "skipped": timeline.skipped,
            "padded": timeline.padded,
            "duration_s": timeline.duration_s,
        }
        return self._store(video, label, timeline.features, name, times)

    def _finished(self, of_kind: Callable[[dict], bool]) -> set[str]:
        """Videos with an index line ``of_kind`` in this format whose file is there."""
        suffix = "." + self.file_format
        return {
            entry["video"]
            for entry in self.entries()
            if of_kind(entry)
            and entry["file"].endswith(suffix)
            and os.path.isfile(os.path.join(self.root, FEATURES_DIR, entry["file"]))
        }

    def _file_name(self, video: str, kind: str) -> str:
        """``<video stem>-<hash of path and kind>.<format>``: unique per video path and kind."""
        stem = os.path.splitext(os.path.basename(video.rstrip("/")))[0]
        digest = hashlib.sha1(f"{video}|{kind}".encode()).hexdigest()[:10]
        return f"{stem}-{digest}.{self.file_format}"

    def _store(
        self,
        video: str,
        label: int | list[int] | None,
        features: torch.Tensor,
        name: str,
        kind_fields: dict,
    ) -> str:
        """Write ``features`` to features/``name`` atomically, then append the index line: the
        video, its label, the file, the shape, then ``kind_fields``."""
        path = os.path.join(self.root, FEATURES_DIR, name)
        with atomic_write(path) as stream:
            if self.file_format == "npy":
                np.save(stream, features.numpy())
            else:
                torch.save(features, stream)
        entry = {
            "video": video,
            "label": label,
            "file": name,
            "shape": list(features.shape),
            **kind_fields,
        }
        with open(self.index_path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        return name
