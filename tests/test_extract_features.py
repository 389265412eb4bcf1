"""tools/extract_features.py: features equal the model's CLS feature, per video and per clip,
.npy and .pt, ranked as the test loop ranks, and a rerun skips finished videos."""

import json
import os

import numpy as np
import pytest
import torch

from helpers import TINY_RUN, tiny_cfg, write_color_dataset
from timesformer.cli.extract_features import main
from timesformer.datasets import build_loader
from timesformer.engine.inference import views_of_files
from timesformer.engine.tester import run_test_views
from timesformer.models.build import build_bare_model
from timesformer.utils.meters import TestMeter


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(data dir with 2 videos and split files, checkpoint of a tiny model, the model)."""
    root = str(tmp_path_factory.mktemp("features"))
    data_dir = write_color_dataset(os.path.join(root, "data"), videos_per_class=1)
    cfg = tiny_cfg(data_dir, os.path.join(root, "out"))
    torch.manual_seed(0)
    model = build_bare_model(cfg).eval()
    checkpoint = os.path.join(root, "tiny.pyth")
    torch.save({"model_state": model.state_dict()}, checkpoint)
    return data_dir, checkpoint, model, cfg


def _index(output_dir) -> list[dict]:
    with open(os.path.join(output_dir, "index.jsonl")) as stream:
        return [json.loads(line) for line in stream]


def _expected_views(cfg, model, video: str) -> torch.Tensor:
    """(V, D) CLS features of the test views of ``video``."""
    dataset = views_of_files(cfg, [video])
    clips = torch.stack([dataset[i][0] for i in range(dataset.views_per_video)])
    with torch.no_grad():
        return model.forward_features(clips)


def test_split_per_video_npy_then_rerun_skips(setup, tmp_path, capsys):
    data_dir, checkpoint, model, cfg = setup
    out = tmp_path / "feats"
    argv = ["--checkpoint", checkpoint, "--output-dir", str(out), "--split", "test"] + TINY_RUN
    argv += ["DATA.PATH_TO_DATA_DIR", data_dir]
    assert main(argv) == 0
    index = _index(out)
    assert [entry["label"] for entry in index] == [0, 1]
    for entry in index:
        stored = np.load(out / "features" / entry["file"])
        assert entry["shape"] == [32] and stored.shape == (32,)
        assert set(entry) == {"video", "label", "file", "shape", "per_clip"}
        expected = _expected_views(cfg, model, entry["video"]).mean(dim=0)
        np.testing.assert_allclose(stored, expected.numpy(), atol=1e-5)

    capsys.readouterr()
    assert main(argv) == 0
    assert "2 of 2 videos already done" in capsys.readouterr().err
    assert len(_index(out)) == 2


def test_video_feature_ranks_classes_as_the_test_loop(setup, tmp_path):
    """The head is linear: the head of the stored mean feature is the mean of the views'
    logits, the test loop's aggregate (their sum) over the number of views."""
    data_dir, checkpoint, model, cfg = setup
    out = tmp_path / "feats"
    argv = ["--checkpoint", checkpoint, "--output-dir", str(out), "--split", "test"] + TINY_RUN
    assert main(argv + ["DATA.PATH_TO_DATA_DIR", data_dir]) == 0
    meter = TestMeter(2, 2, 2, "sum")
    run_test_views(build_loader(cfg, "test"), model, meter, cfg)
    for video, entry in enumerate(_index(out)):
        stored = torch.from_numpy(np.load(out / "features" / entry["file"]))
        with torch.no_grad():
            logits = model.model.head(stored)
        torch.testing.assert_close(logits * 2, meter.video_scores[video], atol=1e-5, rtol=0)


def test_files_per_clip_pt(setup, tmp_path):
    data_dir, checkpoint, model, cfg = setup
    video = os.path.join(data_dir, "c1_0.mp4")
    out = tmp_path / "clips"
    argv = [
        "--checkpoint",
        checkpoint,
        "--output-dir",
        str(out),
        "--per-clip",
        "--format",
        "pt",
        video,
    ]
    assert main(argv + TINY_RUN) == 0
    (entry,) = _index(out)
    assert entry["video"] == video and entry["label"] is None and entry["per_clip"] is True
    stored = torch.load(out / "features" / entry["file"])
    assert stored.shape == (2, 1, 32)  # NUM_ENSEMBLE_VIEWS x NUM_SPATIAL_CROPS x D
    torch.testing.assert_close(
        stored.view(2, 32), _expected_views(cfg, model, video), atol=1e-5, rtol=0
    )
