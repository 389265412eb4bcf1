"""tools/predict.py on a tiny model and generated videos: output format, agreement with
the test path, and its errors."""

import json
import os
import re

import pytest
import torch

from helpers import TINY_RUN, tiny_cfg
from timesformer.cli.predict import main
from timesformer.datasets import build_loader
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.engine.tester import run_test_views
from timesformer.models.build import build_bare_model
from timesformer.utils.meters import TestMeter

VIEWS = [
    "TEST.NUM_ENSEMBLE_VIEWS",
    "2",
    "TEST.NUM_SPATIAL_CROPS",
    "3",
]  # 6 different views per video


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(data dir with 2 textured videos listed in test.csv, checkpoint of a 2-class tiny model, its
    cfg)."""
    data_dir = tmp_path_factory.mktemp("predict")
    with open(data_dir / "test.csv", "w") as split_file:
        for label in (0, 1):
            frames = list(moving_texture_video(24, 40, 56, seed=label))
            path = write_video(str(data_dir / f"v{label}.mp4"), frames, fps=15)
            split_file.write(f"{path} {label}\n")
    cfg = tiny_cfg(str(data_dir), str(data_dir / "out"), *VIEWS)
    torch.manual_seed(0)
    model = build_bare_model(cfg)
    torch.nn.init.normal_(model.model.blocks[0].temporal_fc.weight, std=0.2)
    checkpoint = str(data_dir / "tiny.pyth")
    torch.save({"model_state": model.state_dict()}, checkpoint)
    return str(data_dir), checkpoint, cfg


def _videos(data_dir: str) -> list[str]:
    return [os.path.join(data_dir, "v0.mp4"), os.path.join(data_dir, "v1.mp4")]


@pytest.mark.parametrize(
    "ensemble",
    [("sum", False), ("max", False), ("sum", True), ("max", True)],
    ids=["sum", "max", "sum-softmax", "max-softmax"],
)
def test_json_output_matches_the_test_path(ensemble, setup, tmp_path, capsys):
    data_dir, checkpoint, cfg = setup
    method, softmax = ensemble
    options = ["TEST.ENSEMBLE_METHOD", method, "TEST.ENSEMBLE_SOFTMAX", str(softmax)]
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"first": 0, "second": 1}))
    argv = [
        "--checkpoint",
        checkpoint,
        "--labels",
        str(labels),
        "--top-k",
        "2",
        "--json",
        *_videos(data_dir),
    ]
    assert main(argv + TINY_RUN + VIEWS + options) == 0
    results = json.loads(capsys.readouterr().out)

    model = build_bare_model(cfg)
    model.load_state_dict(torch.load(checkpoint)["model_state"])
    meter = TestMeter(2, 6, 2, method, softmax=softmax)
    run_test_views(build_loader(cfg, "test"), model, meter, cfg)
    aggregate = meter.video_scores  # test.csv lists the same two videos
    # Shown: the softmax of the test loop's aggregate of logits; with TEST.ENSEMBLE_SOFTMAX
    # the aggregated probabilities, as their mean for "sum". Either way ranked as the aggregate.
    if not softmax:
        expected = aggregate.softmax(dim=1)
    else:
        expected = aggregate / 6 if method == "sum" else aggregate
    for result, scores in zip(results, aggregate, strict=True):
        ranked = [scores[entry["label"]].item() for entry in result["top_k"]]
        assert ranked == sorted(ranked, reverse=True)

    assert [r["video"] for r in results] == _videos(data_dir)
    for result, scores in zip(results, expected, strict=True):
        scores_shown = [entry["score"] for entry in result["top_k"]]
        assert scores_shown == sorted(scores_shown, reverse=True)
        for entry in result["top_k"]:
            assert entry["name"] == ("first", "second")[entry["label"]]
            assert entry["score"] == pytest.approx(scores[entry["label"]].item(), abs=1e-6)


def test_text_output_without_labels(setup, capsys):
    data_dir, checkpoint, _ = setup
    assert main(["--checkpoint", checkpoint, "--top-k", "1", _videos(data_dir)[0]] + TINY_RUN) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == _videos(data_dir)[0]
    assert len(lines) == 2 and lines[1].lstrip().startswith("1. ")


def test_unreadable_video_is_reported_and_others_predicted(setup, tmp_path, capsys):
    data_dir, checkpoint, _ = setup
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert (
        main(["--checkpoint", checkpoint, "--json", str(broken), _videos(data_dir)[0]] + TINY_RUN)
        == 1
    )
    captured = capsys.readouterr()
    assert [r["video"] for r in json.loads(captured.out)] == [_videos(data_dir)[0]]
    assert f"error: unreadable video {broken}: cannot open" in captured.err
    # predict.py never skips videos, so the test loop's advice to set it would mislead.
    assert "SKIP_BAD_TEST_VIDEOS" not in captured.err


def test_a_missing_video_spelled_like_a_config_key_is_named(setup, tmp_path, capsys, monkeypatch):
    data_dir, checkpoint, _ = setup
    monkeypatch.chdir(tmp_path)
    assert main(["--checkpoint", checkpoint, "CLIP.MP4", _videos(data_dir)[0]] + TINY_RUN) == 1
    assert "error: unreadable video CLIP.MP4: file not found" in capsys.readouterr().err


def test_other_clip_length_than_the_checkpoints_is_a_warning(setup, capsys):
    data_dir, checkpoint, _ = setup
    argv = ["--checkpoint", checkpoint, _videos(data_dir)[0]] + TINY_RUN + ["DATA.NUM_FRAMES", "4"]
    assert main(argv) == 0
    assert re.search(
        r"\[WARNING\].*Resized time_embed of .*tiny\.pyth from 2 to 4 frames",
        capsys.readouterr().err,
    )


def _error_line(argv: list[str], capsys) -> str:
    """The one stderr line predict.py ends on, with exit status 1."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    return line


def test_missing_checkpoint(setup, tmp_path, capsys):
    data_dir, _, _ = setup
    line = _error_line(
        ["--checkpoint", str(tmp_path / "none.pyth"), _videos(data_dir)[0]] + TINY_RUN, capsys
    )
    assert line.endswith(f": error: Checkpoint {tmp_path}/none.pyth: no such file or directory.")


def test_class_count_mismatch(setup, capsys):
    data_dir, checkpoint, _ = setup
    argv = (
        ["--checkpoint", checkpoint, _videos(data_dir)[0]] + TINY_RUN + ["MODEL.NUM_CLASSES", "3"]
    )
    assert _error_line(argv, capsys).endswith(
        f": error: {checkpoint} classifies 2 classes but MODEL.NUM_CLASSES is 3; pass "
        "MODEL.NUM_CLASSES 2 (or the config the checkpoint was trained with)."
    )


def test_labels_file_of_another_class_count(setup, tmp_path, capsys):
    data_dir, checkpoint, _ = setup
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    argv = ["--checkpoint", checkpoint, "--labels", str(labels), _videos(data_dir)[0]] + TINY_RUN
    assert _error_line(argv, capsys).endswith(
        f": error: Class names {labels} has 3 classes but the model has 2 (MODEL.NUM_CLASSES)."
    )
