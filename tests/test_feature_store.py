"""FeatureStore: a crash loses nothing; a torn index line or a missing file means the video is
redone."""

import os

import torch

from timesformer.engine.feature_store import FeatureStore


def test_store_ignores_torn_index_line_and_missing_files(tmp_path):
    store = FeatureStore(str(tmp_path), "npy")
    store.add("a.mp4", 0, torch.zeros(4), per_clip=False)
    name = store.add("b.mp4", 1, torch.ones(4), per_clip=False)
    with open(store.index_path, "a") as stream:
        stream.write('{"video": "c.mp4", "la')
    os.remove(tmp_path / "features" / name)
    assert store.finished(per_clip=False) == {"a.mp4"}
    assert store.finished(per_clip=True) == set()
