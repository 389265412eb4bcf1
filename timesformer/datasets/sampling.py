"""Which frames of a video a clip takes: dense sampling (Kinetics, HowTo100M) and
segment sampling (Something-Something v2), by the original's formulas.

The sampling functions return frame indices into the video at its own frame rate,
as an int64 array of length ``num_frames``; they never fail on short videos
(indices are clamped, so frames repeat). Randomness comes from ``numpy.random``,
which the loader seeds per worker.

``num_clips`` means what it means in the original: the temporal clips of a video, evenly
spaced (TEST.NUM_ENSEMBLE_VIEWS in testing), of which ``clip_idx`` is one.
"""

import numpy as np
import torch

RANDOM_CLIP = -1
"""``clip_idx`` that asks for a clip at a random position (training, validation)."""


def clip_span(num_frames: int, sampling_rate: int, target_fps: float, video_fps: float) -> float:
    """Video frames a dense clip spans: ``num_frames`` frames ``sampling_rate`` apart at
    ``target_fps`` are ``sampling_rate * num_frames / target_fps * video_fps`` frames of a
    video at ``video_fps`` (the original's ``clip_size``, computed in the same order)."""
    return sampling_rate * num_frames / target_fps * video_fps


def clip_start_end(
    video_size: float, clip_size: float, clip_idx: int, num_clips: int
) -> tuple[float, float]:
    """First and last frame position (fractional) of a clip of ``clip_size`` frames in a video
    of ``video_size`` frames: the original's ``decoder.get_start_end_idx``.

    The start is uniform in ``[0, max(video_size - clip_size, 0)]`` for
    :data:`RANDOM_CLIP`, else ``max(video_size - clip_size, 0) * clip_idx / num_clips``
    (``num_clips`` evenly spaced starts); the end is ``start + clip_size - 1``.
    """
    delta = max(video_size - clip_size, 0)
    if clip_idx == RANDOM_CLIP:
        start = np.random.uniform(0, delta)
    else:
        start = delta * clip_idx / num_clips
    return start, start + clip_size - 1


def spread_indices(start: float, end: float, num_frames: int, num_available: int) -> np.ndarray:
    """``num_frames`` indices evenly spread from ``start`` to ``end``, clamped to
    ``[0, num_available - 1]`` and truncated: the original's ``decoder.temporal_sampling``
    (``torch.linspace`` in float32, as it rounds).

    Returns:
        (num_frames,) int64.
    """
    positions = torch.linspace(start, end, num_frames)
    return torch.clamp(positions, 0, num_available - 1).long().numpy()


def dense_clip_indices(
    num_video_frames: int,
    video_fps: float,
    num_frames: int,
    sampling_rate: int,
    target_fps: float,
    clip_idx: int,
    num_clips: int,
) -> np.ndarray:
    """Frames of one clip of ``num_frames`` frames, ``sampling_rate`` apart at ``target_fps``,
    by the frame index of a video of ``num_video_frames`` frames.

    The clip spans :func:`clip_span` video frames, placed by :func:`clip_start_end` (random
    for :data:`RANDOM_CLIP`, else the ``clip_idx``-th of ``num_clips`` evenly spaced
    positions), its frames spread over it by :func:`spread_indices`: the original's rule for a
    video it decodes whole. (For test clips of videos whose header gives their length, the
    original places clips by timestamp instead: see :func:`pts_window`.)

    Returns:
        (num_frames,) int64 indices in ``[0, num_video_frames - 1]``.
    """
    span = clip_span(num_frames, sampling_rate, target_fps, video_fps)
    start, end = clip_start_end(num_video_frames, span, clip_idx, num_clips)
    return spread_indices(start, end, num_frames, num_video_frames)


def pts_window(
    header_frames: int, header_duration: int, clip_size: float, clip_idx: int, num_clips: int
) -> tuple[int, int]:
    """The timestamps (pts) between which the original's PyAV decoder keeps the frames of clip
    ``clip_idx`` of ``num_clips``, for a stream whose header gives ``header_frames`` frames
    and a duration of ``header_duration`` (in the stream's time base): the clip's first and
    last frame positions (:func:`clip_start_end` over ``header_frames``) times the stream's
    average pts per frame, truncated (the original's ``decoder.pyav_decode``).

    The clip's frames are then taken from the frames decoded in that window (see
    :func:`timesformer.datasets.decoder.decode_test_clip`).
    """
    start, end = clip_start_end(header_frames, clip_size, clip_idx, num_clips)
    pts_per_frame = header_duration / header_frames
    return int(start * pts_per_frame), int(end * pts_per_frame)


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
