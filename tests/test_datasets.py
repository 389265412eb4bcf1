"""Kinetics and HowTo100M on the dataset base class (kinetics.py, howto100m.py, clip_dataset.py,
build.py): items and views, the original's test frames and crops, broken videos replaced in
training and named in testing."""

import logging
import os

import numpy as np
import pytest
import torch

from helpers import (
    MEAN,
    ONE_LEVEL,
    STD,
    TINY_VIDEO_DATA,
    all_frames,
    frame_numbers,
    original_test_clip_frames,
    original_test_view,
    tiny_cfg,
    write_frame_number_video,
    write_resolution_change_video,
    write_truncated_copy,
)
from timesformer.datasets import build_dataset
from timesformer.datasets.clip_dataset import TooManyUnreadableVideosError
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import VideoReadError


def test_registered_names_and_unknown_name(kinetics_dir):
    with pytest.raises(KeyError, match="charades, hmdb51, howto100m, kinetics, ssv2, ucf101"):
        build_dataset("epic_kitchens", tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), "train")
    assert (
        type(
            build_dataset("Kinetics", tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), "train")
        ).__name__
        == "Kinetics"
    )


@pytest.mark.parametrize("split", ["train", "val"])
def test_kinetics_train_val_items(kinetics_dir, split):
    np.random.seed(0)
    dataset = build_dataset("kinetics", tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), split)
    assert len(dataset) == dataset.num_videos == 3 and dataset.views_per_video == 1
    assert (
        dataset.labels == [0, 1, 2] and os.path.basename(dataset.paths[1]) == "portrait_24fps.mp4"
    )
    for index in range(len(dataset)):
        frames, label, item_index, meta = dataset[index]
        assert frames.shape == (3, 4, 32, 32) and frames.dtype == torch.float32
        assert (label, item_index) == (index, index)
        assert meta == {
            "video_idx": index,
            "temporal_idx": -1,
            "spatial_idx": -1,
            "num_decode_failures": 0,
        }


def test_kinetics_test_views_per_video(kinetics_dir):
    dataset = build_dataset("kinetics", tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), "test")
    assert dataset.views_per_video == 6 and len(dataset) == 18
    views = [dataset[i][3] for i in range(6, 12)]
    assert [(m["video_idx"], m["temporal_idx"], m["spatial_idx"]) for m in views] == [
        (1, 0, 0),
        (1, 0, 1),
        (1, 0, 2),
        (1, 1, 0),
        (1, 1, 1),
        (1, 1, 2),
    ]
    frames, label, index, _ = dataset[7]
    assert frames.shape == (3, 4, 32, 32) and (label, index) == (1, 7)


def test_kinetics_test_views_evenly_spaced_and_deterministic(kinetics_dir):
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
    cfg.TEST.NUM_ENSEMBLE_VIEWS = 4
    dataset = build_dataset("kinetics", cfg, "test")
    # landscape_30fps: 60 frames, clip 8 frames at 30 fps; slack 52, starts 52 * i / 4.
    clips = [frame_numbers(dataset.load_frames(0, view)) for view in range(4)]
    assert [clip[0] for clip in clips] == [0, 13, 26, 39]
    assert all(
        clip == [s, s + 2, s + 4, s + 7] for s, clip in zip((0, 13, 26, 39), clips, strict=True)
    )  # linspace(s, s + 7, 4)
    assert clips == [frame_numbers(dataset.load_frames(0, view)) for view in range(4)]
    # short_60fps: 8 frames, shorter than the 16 frames a clip spans at 60 fps: frames repeat.
    short = frame_numbers(dataset.load_frames(2, 3))
    assert short[0] == 0 and short[-1] == 7 and short == sorted(short)


def test_kinetics_test_crops_follow_orientation(kinetics_dir):
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
    dataset = build_dataset("kinetics", cfg, "test")
    for video_idx in (0, 1):  # landscape, portrait
        crops = [dataset[video_idx * 6 + crop][0] for crop in range(3)]
        assert not torch.equal(crops[0], crops[2])
    cfg.TEST.NUM_SPATIAL_CROPS = 1
    single = build_dataset("kinetics", cfg, "test")
    assert single.views_per_video == 2 and single[0][3]["spatial_idx"] == 0


def test_a_test_crop_larger_than_the_scaled_frame_scales_the_frame_to_the_crop(
    kinetics_dir, caplog
):
    """1-crop Kinetics views scale frames to DATA.TRAIN_JITTER_SCALES[0] (32 here): a crop of 48
    used to be cut from a 32-pixel frame, 48 x 32 pixels, silently."""
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA, "TEST.NUM_SPATIAL_CROPS", "1")
    cfg.DATA.TEST_CROP_SIZE = 48
    with caplog.at_level(logging.WARNING):
        dataset = build_dataset("kinetics", cfg, "test")
    assert "DATA.TEST_CROP_SIZE 48 is larger than the short side 32" in caplog.text
    frames = dataset[0][0]
    assert frames.shape == (3, 4, 48, 48)
    expected, _ = original_test_view(dataset.load_frames(0, 0), 48, 48, 1, MEAN, STD)
    torch.testing.assert_close(frames, expected, atol=ONE_LEVEL, rtol=0)


def test_training_reads_a_video_whose_resolution_changes(tmp_path):
    write_resolution_change_video(str(tmp_path / "joined.ts"))
    (tmp_path / "train.csv").write_text("joined.ts 2\n")
    cfg = tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA, "DATA.SAMPLING_RATE", "12")
    dataset = build_dataset("kinetics", cfg, "train")
    np.random.seed(0)
    for _ in range(4):
        frames, label, _, meta = dataset[0]
        assert frames.shape == (3, 4, 32, 32) and label == 2
        assert meta["num_decode_failures"] == 0


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory, kinetics_dir):
    """One good video, one truncated, one missing."""
    folder = tmp_path_factory.mktemp("broken")
    write_truncated_copy(
        os.path.join(kinetics_dir, "landscape_30fps.mp4"), str(folder / "truncated.mp4")
    )
    good = os.path.join(kinetics_dir, "portrait_24fps.mp4")
    for split in ("train", "test"):
        (folder / f"{split}.csv").write_text(f"truncated.mp4 0\n{good} 1\nmissing.mp4 2\n")
    return str(folder)


def test_train_replaces_bad_videos_counts_and_logs_once(broken_dir, caplog):
    np.random.seed(0)
    cfg = tiny_cfg(broken_dir, "", *TINY_VIDEO_DATA)
    cfg.DATA.NUM_RETRIES = 20
    dataset = build_dataset("kinetics", cfg, "train")
    with caplog.at_level(logging.WARNING):
        items = [dataset[index] for index in (0, 2, 0, 2)]
    for frames, label, index, meta in items:
        assert (
            frames.shape == (3, 4, 32, 32) and label == 1 and index == 1 and meta["video_idx"] == 1
        )
        assert meta["num_decode_failures"] >= 1
    messages = [r.getMessage() for r in caplog.records if "Unreadable video" in r.getMessage()]
    assert len(messages) == 2  # once per path
    assert any("truncated.mp4" in m and "cannot open" in m for m in messages)
    assert any("missing.mp4: file not found" in m for m in messages)


def test_train_gives_up_after_num_retries(tmp_path):
    (tmp_path / "train.csv").write_text("missing_a.mp4 0\nmissing_b.mp4 1\n")
    cfg = tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA)
    cfg.DATA.NUM_RETRIES = 2
    with pytest.raises(
        TooManyUnreadableVideosError,
        match=r"3 videos in a row could not be read \(DATA.NUM_RETRIES is 2\)",
    ):
        build_dataset("kinetics", cfg, "train")[0]


def test_test_split_bad_video_is_an_error_naming_the_file(broken_dir):
    dataset = build_dataset("kinetics", tiny_cfg(broken_dir, "", *TINY_VIDEO_DATA), "test")
    with pytest.raises(
        VideoReadError, match=r"missing.mp4: file not found .*DATA.SKIP_BAD_TEST_VIDEOS"
    ):
        dataset[12]


def test_test_split_skips_bad_videos_when_asked(broken_dir):
    cfg = tiny_cfg(broken_dir, "", *TINY_VIDEO_DATA)
    cfg.DATA.SKIP_BAD_TEST_VIDEOS = True
    dataset = build_dataset("kinetics", cfg, "test")
    frames, label, index, meta = dataset[13]
    assert label == -1 and index == 13 and not frames.any() and frames.shape == (3, 4, 32, 32)
    assert meta == {"video_idx": 2, "temporal_idx": 0, "spatial_idx": 1, "num_decode_failures": 1}
    assert dataset[6][1] == 1


def test_howto100m_test_clips_spread_over_the_whole_video(tmp_path):
    write_frame_number_video(str(tmp_path / "long.mp4"), 62, 32, 48, 10, options={"g": "8"})
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("long.mp4 4\n")
    cfg = tiny_cfg(str(tmp_path), "", *TINY_VIDEO_DATA)
    cfg.TEST.NUM_ENSEMBLE_VIEWS = 4
    cfg.DATA.SAMPLING_RATE = 3  # 4 x 3 frames at 30 fps = 4 frames at 10 fps; slack 58
    dataset = build_dataset("howto100m", cfg, "test")
    assert len(dataset) == 12
    starts = [frame_numbers(dataset.load_frames(0, view))[0] for view in range(4)]
    # Starts 58 * i / 4 = 0, 14.5, 29, 43.5; the original's PyAV path (decoder.pyav_decode)
    # keeps the frames from timestamp int(start * pts per frame), so 14.5 starts at frame 15.
    assert starts == [0, 15, 29, 44]
    np.random.seed(3)
    train = build_dataset("howto100m", cfg, "train")
    random_starts = {frame_numbers(train.load_frames(0, -1))[0] for _ in range(12)}
    assert len(random_starts) > 6 and max(random_starts) > 30


@pytest.fixture(scope="module")
def textured_video_dir(tmp_path_factory):
    """One 96-frame 30 fps video of 40x56 moving noisy texture (no two frames, no two pixel
    positions alike), listed as test.csv and train.csv."""
    folder = tmp_path_factory.mktemp("textured")
    write_video(str(folder / "v.mp4"), list(moving_texture_video(96, 40, 56)), fps=30)
    for split in ("train", "test"):
        (folder / f"{split}.csv").write_text("v.mp4 3\n")
    return folder


@pytest.mark.parametrize(
    "name, views, crops",
    [("kinetics", 1, 3), ("kinetics", 10, 3), ("kinetics", 1, 1), ("howto100m", 4, 1)],
)
def test_test_views_are_the_originals_frames_and_crops(textured_video_dir, name, views, crops):
    """Every test view equals the original's: its frames (datasets/decoder.py) and its crop
    (datasets/kinetics.py: 3 crops of short side TEST_CROP_SIZE, or the centre crop of short
    side TRAIN_JITTER_SCALES[0]), up to one 8-bit level from resizing uint8 frames."""
    cfg = tiny_cfg(str(textured_video_dir), "", *TINY_VIDEO_DATA)
    cfg.DATA.SAMPLING_RATE = 8  # clips of 4 x 8 = 32 frames; starts 64 * i / views
    cfg.DATA.TRAIN_JITTER_SCALES = [48, 56]
    cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS = views, crops
    dataset = build_dataset(name, cfg, "test")
    path = dataset.paths[0]
    decoded = all_frames(path)
    short_side = 32 if crops == 3 else 48
    for index in range(len(dataset)):
        view, label, _, meta = dataset[index]
        temporal_idx = meta["temporal_idx"]
        spatial_idx = meta["spatial_idx"] if crops == 3 else 1
        frames = original_test_clip_frames(path, 4, 8, 30, temporal_idx, views)
        expected, _ = original_test_view(decoded[frames], short_side, 32, spatial_idx, MEAN, STD)
        torch.testing.assert_close(view, expected, atol=ONE_LEVEL, rtol=0)
        assert label == 3
