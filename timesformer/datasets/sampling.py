"""Which frames of a video a clip takes: dense sampling (Kinetics, HowTo100M) and
segment sampling (Something-Something v2).

All functions return frame indices into the video at its own frame rate, as an
int64 array of length ``num_frames``; they never fail on short videos (indices
are clamped, so frames repeat). Randomness comes from ``numpy.random``, which
the loader seeds per worker.
"""

import numpy as np

RANDOM_CLIP = -1
"""``clip_idx`` that asks for a clip at a random position (training, validation)."""


def dense_clip_indices(
    num_video_frames: int,
    video_fps: float,
    num_frames: int,
    sampling_rate: int,
    target_fps: float,
    clip_idx: int,
    num_clips: int,
) -> np.ndarray:
    """Frames of one clip of ``num_frames`` frames, ``sampling_rate`` apart at ``target_fps``.

    The clip spans ``num_frames * sampling_rate`` frames at ``target_fps``, that is
    ``num_frames * sampling_rate / target_fps * video_fps`` frames of the video.
    Its start is uniform in ``[0, video_frames - clip_span]`` when ``clip_idx`` is
    :data:`RANDOM_CLIP`, else ``(video_frames - clip_span) * clip_idx / num_clips``
    (the original TimeSformer/SlowFast positions: ``num_clips`` evenly spaced
    starts). The ``num_frames`` frames are spread evenly from the clip's first to
    its last frame.

    Returns:
        (num_frames,) int64 indices in ``[0, num_video_frames - 1]``.
    """
    clip_span = num_frames * sampling_rate / target_fps * video_fps
    slack = max(num_video_frames - clip_span, 0.0)
    if clip_idx == RANDOM_CLIP:
        start = np.random.uniform(0.0, slack)
    else:
        start = slack * clip_idx / num_clips
    positions = np.linspace(start, start + clip_span - 1, num_frames)
    return np.clip(positions, 0, num_video_frames - 1).astype(np.int64)


def segment_indices(num_video_frames: int, num_frames: int, random_offset: bool) -> np.ndarray:
    """One frame from each of ``num_frames`` equal segments of the video (SSv2).

    Segment ``i`` covers frames ``round(s * i) .. round(s * (i + 1))`` with
    ``s = (num_video_frames - 1) / num_frames``; the frame is random within it
    (training) or its middle (validation, test).

    Returns:
        (num_frames,) int64 indices in ``[0, num_video_frames - 1]``.
    """
    segment = (num_video_frames - 1) / num_frames
    bounds = np.round(segment * np.arange(num_frames + 1)).astype(np.int64)
    starts, ends = bounds[:-1], bounds[1:]
    if random_offset:
        chosen = np.array(
            [np.random.randint(s, e + 1) for s, e in zip(starts, ends, strict=True)], dtype=np.int64
        )
    else:
        chosen = (starts + ends) // 2
    return np.clip(chosen, 0, max(num_video_frames - 1, 0))
