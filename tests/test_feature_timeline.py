"""tools/extract_features.py --windows (timesformer/engine/feature_timeline.py): each row is the
CLS feature of its window decoded on its own, the windows' times are stored, a short video gets
one padded window, undecodable windows are NaN rows listed as skipped, a rerun skips."""

import json
import math
import os

import numpy as np
import pytest
import torch

from helpers import TINY_RUN, TINY_WINDOW, WINDOW_FPS, corrupt_middle, drawn, write_window_setup
from timesformer.cli.extract_features import main
from timesformer.datasets.decoder import decode_clips
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import open_video
from timesformer.engine.inference import load_inference_model, views_of_files
from timesformer.engine.video_windows import WindowPlan
from timesformer.engine.window_scores import window_view
from timesformer.models.vit import find_vision_transformer

FPS, WINDOW = WINDOW_FPS, TINY_WINDOW
SECONDS = 4
DIM = 32  # TINY_RUN's TIMESFORMER.EMBED_DIM


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(folder, a 4 s 32x32 video at 16 fps, checkpoint of a random tiny 2-class model, cfg)."""
    folder = tmp_path_factory.mktemp("feature_timeline")
    return folder, *write_window_setup(folder, SECONDS)


def _extract(checkpoint, output_dir, *options: str) -> int:
    """extract_features' exit status on ``options`` (a VIDEO among them) with the tiny windows."""
    argv = ["--checkpoint", checkpoint, "--output-dir", str(output_dir), *options]
    return main([*argv, *TINY_RUN, *WINDOW])


def _index(output_dir) -> list[dict]:
    with open(os.path.join(output_dir, "index.jsonl")) as stream:
        return [json.loads(line) for line in stream]


def _clip_feature(cfg, checkpoint, clip: np.ndarray) -> torch.Tensor:
    """(D,) CLS feature of ``clip`` (T, H, W, 3) uint8 as the single-crop test view."""
    vit = find_vision_transformer(load_inference_model(cfg, checkpoint))
    with torch.no_grad():
        return vit.forward_features(window_view(cfg)(clip)[None])[0]


@pytest.mark.parametrize("stride", [0.5, 1.5], ids=["overlapping", "with-gaps"])
def test_each_row_is_the_feature_of_its_window_decoded_on_its_own(stride, setup, tmp_path):
    _, video, checkpoint, cfg = setup
    out = tmp_path / "feats"
    assert _extract(checkpoint, out, "--stride", str(stride), video, "TEST.BATCH_SIZE", "3") == 0
    (entry,) = _index(out)
    count = math.floor((SECONDS - 1.0) / stride + 1e-9) + 1  # the windows that end inside
    features = np.load(out / "features" / entry["file"])
    assert features.shape == (count, DIM) and features.dtype == np.float32
    assert entry["shape"] == [count, DIM] and "per_clip" not in entry
    assert entry["window_s"] == pytest.approx(1.0) and entry["stride_s"] == stride
    assert entry["starts_s"] == pytest.approx([k * stride for k in range(count)])
    assert entry["skipped"] == [] and entry["padded"] is False
    assert entry["duration_s"] == pytest.approx(SECONDS)
    plan = WindowPlan.of_video(cfg, FPS, stride)
    for k, row in enumerate(features):
        with open_video(video) as container:  # seeks to the window's frames, decodes them alone
            clip = decode_clips(container, drawn(plan.indices(k)), 1)[0]
        expected = _clip_feature(cfg, checkpoint, clip)
        torch.testing.assert_close(torch.from_numpy(row), expected, rtol=1e-5, atol=1e-6)


def test_default_stride_is_half_a_window_and_a_rerun_skips(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    out = tmp_path / "feats"
    assert _extract(checkpoint, out, "--windows", video) == 0
    (entry,) = _index(out)
    assert entry["stride_s"] == 0.5 and entry["shape"] == [7, DIM]
    first = np.load(out / "features" / entry["file"])

    capsys.readouterr()
    assert _extract(checkpoint, out, "--windows", "--stride", "0.5", video) == 0
    assert "1 of 1 videos already done" in capsys.readouterr().err
    assert len(_index(out)) == 1
    np.testing.assert_array_equal(np.load(out / "features" / entry["file"]), first)

    # Another stride, and the per-video mean, are other kinds: stored beside it.
    assert _extract(checkpoint, out, "--stride", "1", video) == 0
    assert _extract(checkpoint, out, video) == 0
    timeline_1s, per_video = _index(out)[1:]
    assert timeline_1s["stride_s"] == 1.0 and timeline_1s["shape"] == [4, DIM]
    assert set(per_video) == {"video", "label", "file", "shape", "per_clip"}
    assert len({line["file"] for line in _index(out)}) == 3


def test_a_video_shorter_than_a_window_gets_one_padded_window(setup, tmp_path):
    """Its one window is the single test view of the video (its last frame repeated)."""
    _, _, checkpoint, cfg = setup
    short = write_video(str(tmp_path / "short.mp4"), list(moving_texture_video(8, 32, 32)), FPS)
    out = tmp_path / "feats"
    assert _extract(checkpoint, out, "--windows", "--format", "pt", short) == 0
    (entry,) = _index(out)
    assert entry["padded"] is True and entry["starts_s"] == [0.0] and entry["skipped"] == []
    assert entry["duration_s"] == pytest.approx(0.5) and entry["window_s"] == pytest.approx(1.0)
    stored = torch.load(out / "features" / entry["file"])
    assert stored.shape == (1, DIM)
    one_view = cfg.clone()
    one_view.TEST.NUM_ENSEMBLE_VIEWS, one_view.TEST.NUM_SPATIAL_CROPS = 1, 1
    view = views_of_files(one_view, [short])[0][0]
    vit = find_vision_transformer(load_inference_model(cfg, checkpoint))
    with torch.no_grad():
        expected = vit.forward_features(view[None])
    torch.testing.assert_close(stored, expected, rtol=1e-5, atol=1e-6)


def test_windows_over_undecodable_frames_are_nan_rows_listed_as_skipped(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    broken = corrupt_middle(video, tmp_path / "broken.mp4")
    out = tmp_path / "feats"
    assert _extract(checkpoint, out, "--windows", broken) == 0
    (entry,) = _index(out)
    features = np.load(out / "features" / entry["file"])
    nan_rows = [k for k, row in enumerate(features) if np.isnan(row).all()]
    assert entry["skipped"] == nan_rows and nan_rows
    assert 0 not in nan_rows and len(features) - 1 not in nan_rows
    assert np.isfinite(np.delete(features, nan_rows, axis=0)).all()
    assert len(entry["starts_s"]) == len(features) == 7
    err = capsys.readouterr().err
    assert "could not be decoded" in err and f"{len(nan_rows)} window(s)" in err


def test_an_unreadable_video_is_reported_and_the_others_stored(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    out = tmp_path / "feats"
    assert _extract(checkpoint, out, "--windows", str(bad), video) == 1
    assert [entry["video"] for entry in _index(out)] == [video]
    assert f"error: unreadable video {bad}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, message",
    [
        (["--per-clip", "--windows"], "--per-clip and --windows (or --stride) are two layouts"),
        (["--per-clip", "--stride", "2"], "--per-clip and --windows (or --stride) are two layouts"),
        (["--stride", "0"], "--stride must be a positive number of seconds, not 0.0"),
    ],
    ids=["per-clip-and-windows", "per-clip-and-stride", "zero-stride"],
)
def test_bad_options_are_one_line(options, message, setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    with pytest.raises(SystemExit) as stop:
        _extract(checkpoint, tmp_path / "feats", *options, video)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "feats").exists()
