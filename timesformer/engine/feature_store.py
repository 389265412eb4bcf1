"""A folder of per-video feature files and its index, written so that a crash loses nothing.

Layout of ``root``::

    index.jsonl               one JSON line per finished video:
                              {"video": PATH, "label": INT, [INT, ...] or null, "file": NAME,
                               "shape": [...], "per_clip": BOOL}
    features/NAME             one .npy (NumPy) or .pt (torch) array per video

Each array is written to a temporary name and renamed, then its index line is
appended and flushed: a video is finished exactly when its line is in the
index, so a rerun skips the finished videos and redoes an interrupted one.
"""

import hashlib
import json
import os

import numpy as np
import torch

from timesformer.utils.file_io import atomic_write
from timesformer.utils.logging import get_logger
from timesformer.utils.output_formats import FEATURE_FORMATS

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
        suffix = "." + self.file_format
        return {
            entry["video"]
            for entry in self.entries()
            if entry.get("per_clip") == per_clip
            and entry["file"].endswith(suffix)
            and os.path.isfile(os.path.join(self.root, FEATURES_DIR, entry["file"]))
        }

    def file_name(self, video: str, per_clip: bool) -> str:
        """``<video stem>-<hash of path and kind>.<format>``: unique per video path and kind."""
        stem = os.path.splitext(os.path.basename(video.rstrip("/")))[0]
        digest = hashlib.sha1(f"{video}|{per_clip}".encode()).hexdigest()[:10]
        return f"{stem}-{digest}.{self.file_format}"

    def add(
        self, video: str, label: int | list[int] | None, features: torch.Tensor, per_clip: bool
    ) -> str:
        """Store ``features`` of ``video`` atomically, then record it in the index; returns the file
        name. ``label``: its class id, its class ids (DATA.MULTI_LABEL), or None (unknown)."""
        name = self.file_name(video, per_clip)
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
            "per_clip": per_clip,
        }
        with open(self.index_path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        return name
