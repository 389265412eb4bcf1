"""Several training clips per video (DATA.TRAIN_CROP_NUM_TEMPORAL, clip_dataset.py with
kinetics.py, howto100m.py and ssv2.py): K clips at independent random positions, each with its
own augmentation, from one read of the video; K = 1 draws exactly what it drew before."""

import json
import os

import av
import cv2
import numpy as np
import pytest
import torch

import timesformer.datasets.kinetics as kinetics_module
from helpers import TINY_VIDEO_DATA, all_frames, frame_numbers, tiny_cfg, write_frame_number_video
from timesformer.datasets import build_dataset, transform
from timesformer.datasets.sampling import RANDOM_CLIP, dense_clip_indices, segment_indices
from timesformer.datasets.video_container import open_video


def clips_cfg(data_dir, clips_per_video, *overrides):
    return tiny_cfg(
        str(data_dir),
        "",
        *TINY_VIDEO_DATA,
        "DATA.TRAIN_CROP_NUM_TEMPORAL",
        str(clips_per_video),
        *overrides,
    )


def written_out_train_clips(cfg, path, clips_per_video):
    """The training clips of one video as the rule says, drawn from numpy's global state in
    the order the loader draws them: each clip's random start (``dense_clip_indices``, one
    uniform draw over the header's frame count), then each clip's augmentation in turn
    (``transform.train_view``), over frames decoded from the start of the video.

    Returns:
        [(3, T, crop, crop) float] * clips_per_video.
    """
    data = cfg.DATA
    with av.open(path) as container:
        stream = container.streams.video[0]
        count, fps = stream.frames, float(stream.average_rate)
    decoded = all_frames(path)
    indices = [
        dense_clip_indices(
            count, fps, data.NUM_FRAMES, data.SAMPLING_RATE, data.TARGET_FPS, RANDOM_CLIP, 1
        )
        for _ in range(clips_per_video)
    ]
    return [
        transform.train_view(
            decoded[clip],
            jitter_scales=tuple(data.TRAIN_JITTER_SCALES),
            crop_size=data.TRAIN_CROP_SIZE,
            inverse_uniform=data.INV_UNIFORM_SAMPLE,
            flip=data.RANDOM_FLIP,
            mean=data.MEAN,
            std=data.STD,
        )
        for clip in indices
    ]


def test_one_clip_per_video_draws_exactly_what_it_drew_before(kinetics_dir):
    """The default (1) gives the item of the single-clip loader: the same random numbers, in
    the same order, so resumed runs stay exact."""
    cfg = clips_cfg(kinetics_dir, 1)
    dataset = build_dataset("kinetics", cfg, "train")
    for seed in (0, 1, 2):
        np.random.seed(seed)
        items = [dataset[index] for index in (0, 1, 2, 0)]
        after = np.random.get_state()[1].copy()
        np.random.seed(seed)
        expected = [written_out_train_clips(cfg, dataset.paths[i], 1)[0] for i in (0, 1, 2, 0)]
        assert np.array_equal(np.random.get_state()[1], after)
        for (frames, label, index, meta), clip, video in zip(
            items, expected, (0, 1, 2, 0), strict=True
        ):
            assert torch.equal(frames, clip)
            assert (label, index, meta["video_idx"]) == (video, video, video)


@pytest.mark.parametrize("name", ["kinetics", "howto100m"])
def test_several_clips_are_independent_draws_each_with_its_own_augmentation(kinetics_dir, name):
    cfg = clips_cfg(kinetics_dir, 3)
    dataset = build_dataset(name, cfg, "train")
    assert dataset.clips_per_video == 3
    np.random.seed(4)
    frames, labels, indices, metas = dataset[1]
    np.random.seed(4)
    expected = written_out_train_clips(cfg, dataset.paths[1], 3)
    assert len(frames) == 3 and all(
        torch.equal(a, b) for a, b in zip(frames, expected, strict=True)
    )
    assert labels == [1, 1, 1] and indices == [1, 1, 1]
    assert (
        metas
        == [{"video_idx": 1, "temporal_idx": -1, "spatial_idx": -1, "num_decode_failures": 0}] * 3
    )


def test_several_clips_come_from_one_open_and_differ(kinetics_dir, monkeypatch):
    opened = []

    def counting_open_video(path, *args):
        opened.append(path)
        return open_video(path, *args)

    monkeypatch.setattr(kinetics_module, "open_video", counting_open_video)
    dataset = build_dataset("kinetics", clips_cfg(kinetics_dir, 4), "train")
    np.random.seed(0)
    starts = set()
    for _ in range(5):
        clips = dataset.load_random_clips(0, 4)  # landscape_30fps: 60 frames, clips span 8
        assert clips.shape == (4, 4, 48, 64, 3)
        starts |= {frame_numbers(clip)[0] for clip in clips}
    assert len(opened) == 5 and len(starts) > 4


def test_validation_and_test_items_stay_single_clips(kinetics_dir):
    cfg = clips_cfg(kinetics_dir, 2)
    for split, expected_index in (("val", 1), ("test", 6)):
        dataset = build_dataset("kinetics", cfg, split)
        frames, label, index, _ = dataset[expected_index]
        assert dataset.clips_per_video == 1
        assert frames.shape == (3, 4, 32, 32) and (label, index) == (1, expected_index)


def test_an_unreadable_video_is_replaced_with_all_its_clips_counted_once(tmp_path, kinetics_dir):
    good = os.path.join(kinetics_dir, "portrait_24fps.mp4")
    (tmp_path / "train.csv").write_text(f"missing.mp4 0\n{good} 1\n")
    dataset = build_dataset("kinetics", clips_cfg(tmp_path, 2, "DATA.NUM_RETRIES", "20"), "train")
    np.random.seed(0)
    frames, labels, indices, metas = dataset[0]
    assert len(frames) == 2 and labels == [1, 1] and indices == [1, 1]
    assert [meta["video_idx"] for meta in metas] == [1, 1]
    assert metas[0]["num_decode_failures"] >= 1 and metas[1]["num_decode_failures"] == 0


def write_ssv2_frame_folder(folder, video_id: str, num_frames: int) -> None:
    """Official SSv2 files for one training video of JPEG frames whose green level is 4 x the
    frame number."""
    (folder / "something-something-v2-labels.json").write_text(json.dumps({"Holding it": "0"}))
    entries = json.dumps([{"id": video_id, "template": "Holding [it]"}])
    (folder / "something-something-v2-train.json").write_text(entries)
    lines = ["original_vido_id video_id frame_id path labels\n"]
    os.makedirs(folder / video_id)
    for t in range(num_frames):
        relative = f"{video_id}/{t:06d}.jpg"
        cv2.imwrite(str(folder / relative), np.full((40, 48, 3), 4 * t, dtype=np.uint8))
        lines.append(f"{video_id} {video_id} {t} {relative} ''\n")
    (folder / "train.csv").write_text("".join(lines))


def test_ssv2_several_clips_draw_their_segment_frames_independently(tmp_path):
    write_ssv2_frame_folder(tmp_path, "5", 20)
    cfg = clips_cfg(tmp_path, 3, "MODEL.NUM_CLASSES", "1")
    dataset = build_dataset("ssv2", cfg, "train")
    np.random.seed(7)
    clips = dataset.load_random_clips(0, 3)
    np.random.seed(7)
    expected = [segment_indices(20, 4, random_offset=True).tolist() for _ in range(3)]
    assert [frame_numbers(clip) for clip in clips] == expected
    assert len({tuple(clip) for clip in expected}) > 1
    frames, labels, _, _ = dataset[0]
    assert [clip.shape for clip in frames] == [(3, 4, 32, 32)] * 3 and labels == [0, 0, 0]


def test_howto100m_clips_of_a_long_video_are_independent_draws(tmp_path):
    """HowTo100M: clips anywhere in a long video, each read by its own pass when apart."""
    write_frame_number_video(str(tmp_path / "long.mp4"), 62, 32, 48, 10, options={"g": "8"})
    (tmp_path / "train.csv").write_text("long.mp4 4\n")
    cfg = clips_cfg(tmp_path, 2, "DATA.SAMPLING_RATE", "3")  # spans of 4 frames at 10 fps
    dataset = build_dataset("howto100m", cfg, "train")
    np.random.seed(5)
    clips = dataset.load_random_clips(0, 2)
    np.random.seed(5)
    expected = [dense_clip_indices(62, 10.0, 4, 3, 30, RANDOM_CLIP, 1).tolist() for _ in (0, 1)]
    assert [frame_numbers(clip) for clip in clips] == expected
