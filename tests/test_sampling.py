"""Which frames a clip takes: dense clips spanning NUM_FRAMES x SAMPLING_RATE at the target rate,
evenly spaced test clips, random clips inside the video, short videos, SSv2's segments."""

import numpy as np

from timesformer.datasets.sampling import RANDOM_CLIP, dense_clip_indices, segment_indices


def test_dense_clip_spans_num_frames_times_rate_at_target_fps():
    # 60 fps video, target 30 fps: a 4 x 2 clip spans 8 frames at 30 fps = 16 video frames.
    indices = dense_clip_indices(
        100, 60.0, num_frames=4, sampling_rate=2, target_fps=30, clip_idx=0, num_clips=1
    )
    assert indices.tolist() == [0, 5, 10, 15]


def test_test_clips_are_evenly_spaced_and_deterministic():
    kwargs = dict(num_frames=4, sampling_rate=2, target_fps=30, num_clips=4)
    starts = [dense_clip_indices(88, 30.0, clip_idx=i, **kwargs)[0] for i in range(4)]
    assert starts == [0, 20, 40, 60]  # slack 88 - 8 = 80, starts 80 * i / 4
    again = [dense_clip_indices(88, 30.0, clip_idx=i, **kwargs)[0] for i in range(4)]
    assert starts == again


def test_random_clip_stays_inside_the_video():
    np.random.seed(0)
    for _ in range(50):
        indices = dense_clip_indices(40, 30.0, 4, 2, 30, RANDOM_CLIP, 1)
        assert indices[0] >= 0 and indices[-1] <= 39 and indices[-1] - indices[0] == 7


def test_video_shorter_than_a_clip_repeats_frames():
    indices = dense_clip_indices(
        3, 30.0, num_frames=8, sampling_rate=4, target_fps=30, clip_idx=0, num_clips=1
    )
    assert len(indices) == 8 and indices.max() == 2 and list(indices) == sorted(indices)


def test_segment_sampling_middle_and_random():
    assert segment_indices(41, 4, random_offset=False).tolist() == [5, 15, 25, 35]
    np.random.seed(1)
    for _ in range(20):
        chosen = segment_indices(41, 4, random_offset=True)
        assert all(10 * i <= c <= 10 * (i + 1) for i, c in enumerate(chosen))
    assert segment_indices(2, 4, random_offset=False).max() <= 1
