"""FeatureStore: a crash loses nothing; a torn index line or a missing file means the video is
redone; a feature timeline is a kind of its own, and the existing kinds' lines and names are as
they were."""

import hashlib
import os

import numpy as np
import torch

from timesformer.engine.feature_store import FeatureStore
from timesformer.engine.feature_timeline import FeatureTimeline
from timesformer.engine.frame_stream import DecodingErrors


def test_store_ignores_torn_index_line_and_missing_files(tmp_path):
    store = FeatureStore(str(tmp_path), "npy")
    store.add("a.mp4", 0, torch.zeros(4), per_clip=False)
    name = store.add("b.mp4", 1, torch.ones(4), per_clip=False)
    with open(store.index_path, "a") as stream:
        stream.write('{"video": "c.mp4", "la')
    os.remove(tmp_path / "features" / name)
    assert store.finished(per_clip=False) == {"a.mp4"}
    assert store.finished(per_clip=True) == set()


def _timeline(stride_s: float) -> FeatureTimeline:
    """A 3-window timeline of 4-d features, window 1 skipped."""
    features = torch.ones(3, 4)
    features[1] = float("nan")
    starts = [k * stride_s for k in range(3)]
    return FeatureTimeline(features, 1.0, stride_s, starts, [1], False, 2.0, DecodingErrors())


def test_a_timeline_is_a_kind_of_its_own_with_its_windows_times(tmp_path):
    store = FeatureStore(str(tmp_path), "npy")
    store.add("a.mp4", 0, torch.zeros(4), per_clip=False)
    name = store.add_timeline("a.mp4", 0, _timeline(0.5))
    assert store.finished(per_clip=False) == {"a.mp4"} and store.finished(per_clip=True) == set()
    assert store.finished_timelines(0.5) == {"a.mp4"} and store.finished_timelines(1.0) == set()
    per_video, timeline = store.entries()
    assert set(per_video) == {"video", "label", "file", "shape", "per_clip"}
    assert timeline == {
        "video": "a.mp4",
        "label": 0,
        "file": name,
        "shape": [3, 4],
        "window_s": 1.0,
        "stride_s": 0.5,
        "starts_s": [0.0, 0.5, 1.0],
        "skipped": [1],
        "padded": False,
        "duration_s": 2.0,
    }
    stored = np.load(tmp_path / "features" / name)
    assert np.isnan(stored[1]).all() and (stored[[0, 2]] == 1).all()


def test_file_names_of_the_existing_kinds_are_unchanged(tmp_path):
    """``<stem>-<sha1 of "PATH|per_clip">[:10].<format>``, as before timelines came."""
    store = FeatureStore(str(tmp_path), "pt")
    for per_clip in (False, True):
        digest = hashlib.sha1(f"dir/a.mp4|{per_clip}".encode()).hexdigest()[:10]
        assert store.add("dir/a.mp4", None, torch.zeros(2), per_clip) == f"a-{digest}.pt"
