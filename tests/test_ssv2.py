"""Something-Something v2: frame folders and their labels, segment sampling, never flipped, the
test crop, .webm read directly, and errors naming the file."""

import json
import os

import av
import cv2
import numpy as np
import pytest
import torch

from helpers import (
    MEAN,
    ONE_LEVEL,
    STD,
    TINY_VIDEO_DATA,
    frame_numbers,
    original_test_view,
    tiny_cfg,
    write_frame_number_video,
)
from timesformer.datasets import build_dataset
from timesformer.datasets.split_file import SplitFileError
from timesformer.datasets.ssv2 import Ssv2
from timesformer.datasets.video_container import VideoReadError


def test_ssv2_one_crop_test_view_keeps_the_test_crop_size_scale(ssv2_dir):
    """The original's ssv2.py scales test frames to TEST_CROP_SIZE whatever the crop count."""
    cfg = ssv2_cfg(ssv2_dir, ssv2_dir / "frames")
    cfg.DATA.TRAIN_JITTER_SCALES = [40, 48]
    cfg.TEST.NUM_SPATIAL_CROPS = 1
    dataset = build_dataset("ssv2", cfg, "test")
    expected, box = original_test_view(dataset.load_frames(0, 0), 32, 32, 1, MEAN, STD)
    assert box == (32, 42, 0, 5)
    torch.testing.assert_close(dataset[0][0], expected, atol=ONE_LEVEL, rtol=0)


def write_ssv2_annotations(
    folder, video_ids, labels=("Pushing something from left to right", "Holding something")
):
    label_names = {name: str(i) for i, name in enumerate(labels)}
    (folder / "something-something-v2-labels.json").write_text(json.dumps(label_names))
    entries = [
        {"id": vid, "template": labels[i % 2].replace("something", "[something]"), "label": "x"}
        for i, vid in enumerate(video_ids)
    ]
    for name in ("train", "validation"):
        (folder / f"something-something-v2-{name}.json").write_text(json.dumps(entries))


def write_ssv2_frames(folder, video_id, num_frames):
    """JPEG frames whose green level tells the frame number, and whose blue level rises left to
    right."""
    lines = []
    os.makedirs(folder / "frames" / video_id, exist_ok=True)
    for t in range(num_frames):
        image = np.full((48, 64, 3), 4 * t, dtype=np.uint8)
        image[..., 0] = np.arange(64, dtype=np.uint8) * 4  # OpenCV writes BGR: blue = 4 * column
        relative = f"{video_id}/{video_id}_{t + 1:06d}.jpg"
        cv2.imwrite(str(folder / "frames" / relative), image)
        lines.append(f"{video_id} {video_id} {t} {relative} ''\n")
    return lines


@pytest.fixture(scope="module")
def ssv2_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ssv2")
    write_ssv2_annotations(folder, ["101", "102", "103"])
    lines = (
        [SSV2_HEADER] + write_ssv2_frames(folder, "101", 20) + write_ssv2_frames(folder, "102", 9)
    )
    for name in ("train.csv", "val.csv"):
        (folder / name).write_text("".join(lines))
    return folder


SSV2_HEADER = "original_vido_id video_id frame_id path labels\n"


def ssv2_cfg(folder, prefix):
    cfg = tiny_cfg(str(folder), "", *TINY_VIDEO_DATA)
    cfg.DATA.PATH_PREFIX = str(prefix)
    cfg.MODEL.NUM_CLASSES = 2
    cfg.DATA.RANDOM_FLIP = True
    return cfg


def test_ssv2_frames_labels_and_segment_sampling(ssv2_dir):
    dataset = build_dataset("ssv2", ssv2_cfg(ssv2_dir, ssv2_dir / "frames"), "test")
    assert dataset.num_videos == 2 and dataset.labels == [0, 1]  # 103 has no frames: left out
    assert len(dataset) == 12
    # 20 frames, 4 segments of 4.75: bounds 0, 5, 10, 14, 19 -> middles 2, 7, 12, 16
    assert frame_numbers(dataset.load_frames(0, 0)) == [2, 7, 12, 16]
    frames, label, index, meta = dataset[7]
    assert frames.shape == (3, 4, 32, 32) and (label, index, meta["video_idx"]) == (1, 7, 1)


def test_ssv2_never_flips(ssv2_dir):
    np.random.seed(0)
    dataset = build_dataset("ssv2", ssv2_cfg(ssv2_dir, ssv2_dir / "frames"), "train")
    for _ in range(12):
        frames = dataset[0][0]
        blue = frames[2, 0, 0]  # first frame, top row
        assert blue[-1] > blue[0] + 1  # blue still rises from left to right


def test_ssv2_missing_frame_is_reported(ssv2_dir, tmp_path):
    cfg = ssv2_cfg(ssv2_dir, tmp_path)  # frames are not under this prefix
    with pytest.raises(VideoReadError, match="frame image not found"):
        build_dataset("ssv2", cfg, "test")[0]


def test_ssv2_reads_webm_directly_without_frame_lists(tmp_path):
    if "libvpx" not in av.codecs_available:
        pytest.skip("no VP8 encoder")
    write_ssv2_annotations(tmp_path, ["7", "8"])
    videos = tmp_path / "videos"
    videos.mkdir()
    write_frame_number_video(str(videos / "7.webm"), 20, 48, 64, 12, codec="libvpx")
    write_frame_number_video(str(videos / "8.webm"), 16, 64, 48, 12, codec="libvpx")
    dataset = build_dataset("ssv2", ssv2_cfg(tmp_path, videos), "val")
    assert isinstance(dataset, Ssv2) and dataset.videos.frame_paths is None
    assert frame_numbers(dataset.load_frames(0, -1)) == [2, 7, 12, 16]
    assert dataset[1][0].shape == (3, 4, 32, 32)


def test_ssv2_unknown_template_is_named(tmp_path):
    write_ssv2_annotations(tmp_path, ["1"])
    (tmp_path / "something-something-v2-train.json").write_text(
        json.dumps([{"id": "1", "template": "Dancing"}])
    )
    with pytest.raises(SplitFileError, match="entry 0 \\(id 1\\) has unknown template 'Dancing'"):
        build_dataset("ssv2", ssv2_cfg(tmp_path, tmp_path), "train")


def test_ssv2_malformed_frame_list_line_is_named(tmp_path):
    write_ssv2_annotations(tmp_path, ["1"])
    (tmp_path / "train.csv").write_text(
        SSV2_HEADER + "1 1 0 1/1_000001.jpg ''\n1 1 1/1_000002.jpg\n"
    )
    with pytest.raises(
        SplitFileError, match=r"train.csv:3: expected 5 fields .*'1 1 1/1_000002.jpg'"
    ):
        build_dataset("ssv2", ssv2_cfg(tmp_path, tmp_path), "train")


def test_ssv2_check_decodes_every_frame_image(tmp_path):
    """A corrupt JPEG that no test view takes (frame 1 of 20; the views take 2, 7, 12, 16) fails
    training reads that pick it: the check names it."""
    write_ssv2_annotations(tmp_path, ["101"])
    lines = write_ssv2_frames(tmp_path, "101", 20)
    (tmp_path / "val.csv").write_text("".join([SSV2_HEADER, *lines]))
    corrupt = tmp_path / "frames" / "101" / "101_000002.jpg"
    corrupt.write_bytes(b"\xff\xd8 not a JPEG any more")
    dataset = build_dataset("ssv2", ssv2_cfg(tmp_path, tmp_path / "frames"), "val")
    dataset._load_checked(0, 0)  # the test views do not take it
    with pytest.raises(VideoReadError, match=f"{corrupt}: cannot decode frame image"):
        dataset.check_video(0)
