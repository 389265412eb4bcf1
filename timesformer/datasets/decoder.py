"""Decoding the frames a clip needs from an open PyAV container.

The decoder seeks to the key frame before the clip's first frame, decodes only
until its last frame, skips the frames no other frame references and the clip does not use
(:mod:`timesformer.datasets.frame_skipping`), and converts to RGB only the frames the clip
uses, so one clip of a minutes-long video costs about as much as one of a short video. Where
the stream's key frames are close enough, a clip's frames are decoded in several passes, a seek
to the key frame before each group of them, when that decodes fewer frames
(:mod:`timesformer.datasets.clip_plan`).
:func:`decode_clips` takes the frames a sampling rule picks by frame index, for one clip or several
from one pass over the frames their spans cover;
:func:`decode_test_clip` the frames of a test clip exactly as the original's PyAV
decoder picks them (by timestamp).
"""

import math
from contextlib import closing
from functools import partial
from typing import Callable

import av
import numpy as np

from timesformer.datasets.clip_frames import frames_to_clip, frames_to_clips, rgb_converter
from timesformer.datasets.clip_plan import plan_passes
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.frame_skipping import SkippableFrames, decoded_frames
from timesformer.datasets.keyframe_index import KeyframeIndexCache
from timesformer.datasets.sampling import clip_span, dense_clip_indices, pts_window, spread_indices
from timesformer.datasets.video_container import (
    DECODING_ERRORS,
    VideoReadError,
    decoding_errors_name,
    error_reason,
)

ChooseFrames = Callable[[int, float], np.ndarray]
"""``(num_video_frames, video_fps) -> (T,) int64 frame indices`` (see ``sampling``)."""

END_TOLERANCE = 0.02
"""Fraction of a video's length from its header that :func:`decode_to_end` lets the stream
fall short of (encoders round, and drop a frame or two at edit-list boundaries)."""


def video_fps(stream: av.video.stream.VideoStream) -> float:
    """Frame rate of ``stream``: its average rate, else its guessed rate, else 30."""
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 30.0


def estimated_frame_count(container: av.container.InputContainer, fps: float) -> int | None:
    """Frames in the first video stream from the header (frame count or duration); None if
    unknown."""
    stream = container.streams.video[0]
    if stream.frames > 0:
        return stream.frames
    if stream.duration is not None and stream.time_base is not None:
        return max(int(round(float(stream.duration * stream.time_base) * fps)), 1)
    if container.duration is not None:
        return max(int(round(container.duration / av.time_base * fps)), 1)
    return None


def decode_clips(
    container: av.container.InputContainer,
    choose_frames: ChooseFrames,
    clip_count: int,
    keyframe_indices: KeyframeIndexCache | None = None,
) -> np.ndarray:
    """Decode ``clip_count`` clips, clip k of the frames the k-th call of ``choose_frames``
    picks (so a random rule draws each clip's position independently), in one pass over the
    frames their spans cover.

    Clips whose spans overlap or touch (those of a video not much longer than a clip) are read
    in one pass: one seek to the earliest frame they want, decoding up to the latest. A clip
    apart from the others (in a long video) gets a pass, and a seek, of its own
    (:func:`decoding_passes`). With ``keyframe_indices`` (a loader worker's cache of the
    videos' key-frame indices), a pass is split into several, a seek to the key frame before
    each, where the stream's key frames make that decode fewer frames
    (:mod:`timesformer.datasets.clip_plan`; the packets of the clips' spans are read for it,
    without decoding, :mod:`timesformer.datasets.keyframe_index`); without, every pass is one.
    Only the chosen frames are converted to RGB, each once.

    Returns:
        clips: (clip_count, T, H, W, 3) uint8 RGB, each clip in the order of its indices.

    Raises:
        VideoReadError: when the stream is corrupt, no frame can be decoded, or the frames
            cannot become a clip (a pixel format without an RGB conversion, empty frames).
            Frames whose size differs from the first chosen frame's (a stream whose
            resolution changes) are resized to it.
    """
    with decoding_errors_name(container):
        return _decode_clips(container, choose_frames, clip_count, keyframe_indices)


def decoding_passes(clips: list[np.ndarray]) -> list[np.ndarray]:
    """The frames to decode in each pass (one seek each) for clips of chosen frame indices:
    clips whose spans ``[min, max]`` overlap or touch share a pass.

    Args:
        clips: each clip's frame indices, (T,) int (unsorted, repeats allowed).

    Returns:
        per pass, the sorted distinct frame indices it wants; passes in the video's order.
    """
    groups: list[list[np.ndarray]] = []
    group_end = -2
    for clip in sorted(clips, key=lambda clip: int(clip.min())):
        if groups and clip.min() <= group_end + 1:
            groups[-1].append(clip)
            group_end = max(group_end, int(clip.max()))
        else:
            groups.append([clip])
            group_end = int(clip.max())
    return [np.unique(np.concatenate(group)) for group in groups]


def decode_test_clip(
    container: av.container.InputContainer,
    num_frames: int,
    sampling_rate: int,
    target_fps: float,
    clip_idx: int,
    num_clips: int,
) -> np.ndarray:
    """Decode test clip ``clip_idx`` of ``num_clips`` (``num_frames`` frames ``sampling_rate``
    apart at ``target_fps``), with the frames the original's PyAV path takes.

    When the stream's header gives its frame count and duration (mp4), the original turns
    the clip's first and last frame positions into timestamps (``sampling.pts_window``),
    keeps the decoded frames whose timestamps lie between them plus the first frame after
    them, and spreads the clip over those kept frames from the first (positions
    ``0 .. clip_size - 1``, clamped to the last kept frame). A clip whose start position is
    not a whole frame thus starts at the next frame, not at the one before. Without that
    header (webm, mkv), the original decodes the whole video and picks frames by index
    (``sampling.dense_clip_indices``); this decoder picks the same indices from the length
    the container gives, seeking instead of decoding it all.

    Returns:
        frames: (num_frames, H, W, 3) uint8 RGB.

    Raises:
        VideoReadError: when the stream is corrupt or no frame can be decoded.
    """
    stream = container.streams.video[0]
    clip_size = clip_span(num_frames, sampling_rate, target_fps, video_fps(stream))
    by_index = partial(
        dense_clip_indices,
        num_frames=num_frames,
        sampling_rate=sampling_rate,
        target_fps=target_fps,
        clip_idx=clip_idx,
        num_clips=num_clips,
    )
    with decoding_errors_name(container):
        if stream.duration is not None and stream.frames > 0:
            window = pts_window(stream.frames, stream.duration, clip_size, clip_idx, num_clips)
            # Positions in the kept frames; a clip keeps at most ceil(clip_size) of them.
            positions = spread_indices(0.0, clip_size - 1, num_frames, math.ceil(clip_size))
            frames = _decode_pts_window(container, *window, positions)
            if frames is not None:
                return frames
        return _decode_clips(container, by_index, 1)[0]


def _decode_pts_window(
    container, start_pts: int, end_pts: int, positions: np.ndarray
) -> np.ndarray | None:
    """The frames at ``positions`` of the list of decoded frames with ``start_pts <= pts <=
    end_pts`` followed by the first frame after ``end_pts``; positions past its end take its
    last frame. None when no frame lies in the window or a frame has no timestamp (the
    caller then picks frames by index)."""
    kept = _window_frames(container, start_pts, end_pts, positions, seek=start_pts > 0)
    if kept is None:  # the seek landed past the window's start: decode from the beginning
        kept = _window_frames(container, start_pts, end_pts, positions, seek=False)
    if not kept:
        return None
    last = max(kept)
    return frames_to_clip([kept[min(int(position), last)] for position in positions])


def _window_frames(
    container, start_pts: int, end_pts: int, positions: np.ndarray, seek: bool
) -> dict[int, np.ndarray] | None:
    """``{position in the window's frame list: (H, W, 3) RGB}`` for the wanted positions, and
    for the list's last frame when a position lies past it; {} when a frame has no timestamp or
    none lies in the window; None when the seek landed after ``start_pts``."""
    stream = container.streams.video[0]
    container.seek(start_pts if seek else 0, stream=stream, backward=True)
    wanted, last_wanted = set(positions.tolist()), int(positions.max())
    to_rgb = rgb_converter()
    images, count, last_frame = {}, 0, None
    # Frames before the window are never kept: those no other frame references are skipped.
    frames = decoded_frames(container, stream, unused=lambda pts: pts < start_pts)
    for number, frame in enumerate(frames):
        if frame.pts is None:
            return {}
        if number == 0 and seek and frame.pts > start_pts:
            return None
        if frame.pts < start_pts:
            continue
        if count in wanted:
            images[count] = to_rgb(frame)
        last_frame, count = frame, count + 1
        if frame.pts > end_pts or count > last_wanted:
            break  # the original keeps this one frame past the window, and no more
    if last_frame is not None and last_wanted >= count:  # positions past the list: its last frame
        images[count - 1] = to_rgb(last_frame)
    return images


def _decode_clips(
    container,
    choose_frames: ChooseFrames,
    clip_count: int,
    keyframe_indices: KeyframeIndexCache | None = None,
) -> np.ndarray:
    stream = container.streams.video[0]
    fps = video_fps(stream)
    frame_count = estimated_frame_count(container, fps)
    if frame_count is None:
        return _decode_all_then_choose(container, choose_frames, clip_count, fps)
    clips = [choose_frames(frame_count, fps) for _ in range(clip_count)]
    clock = FrameClock.of_stream(container, fps)
    images = {}
    for span in decoding_passes(clips):
        passes = [span]
        if keyframe_indices is not None:
            passes = _planned_passes(keyframe_indices, container, clock, span)
        for wanted in passes:
            found = _decode_wanted(container, wanted, clock, seek=wanted[0] > 0)
            if found is None:
                found = _decode_wanted(container, wanted, clock, seek=False)
            if found is None:
                raise VideoReadError(container.name, "no video frame could be decoded")
            images.update(found)
    return frames_to_clips(images, clips)


def _planned_passes(
    keyframe_indices: KeyframeIndexCache, container, clock: FrameClock, span: np.ndarray
) -> list[np.ndarray]:
    """The passes :func:`~timesformer.datasets.clip_plan.plan_passes` splits the sorted frame
    indices ``span`` into, from the key-frame index of the packets they need (``[span]`` when
    the stream cannot be indexed)."""
    index = keyframe_indices.get(container, clock, int(span[0]), int(span[-1]))
    return [span] if index is None else plan_passes(index, clock, span)


def _decode_all_then_choose(
    container, choose_frames: ChooseFrames, clip_count: int, fps: float
) -> np.ndarray:
    """For streams whose header gives no length: decode everything, then pick."""
    frames = list(container.decode(video=0))
    if not frames:
        raise VideoReadError(container.name, "no video frame could be decoded")
    clips = [choose_frames(len(frames), fps) for _ in range(clip_count)]
    wanted = np.unique(np.concatenate(clips))
    to_rgb = rgb_converter()
    return frames_to_clips({i: to_rgb(frames[i]) for i in wanted}, clips)


def _decode_wanted(
    container, wanted: np.ndarray, clock: FrameClock, seek: bool, skip_unused: bool = True
) -> dict[int, np.ndarray] | None:
    """Map each wanted frame index (of ``clock``) to its (H, W, 3) RGB image.

    A wanted index with no frame of its own (variable frame rate, or a header that
    overstates the length) gets the next decoded frame, or the last one at the end
    of the stream. Returns None when nothing was decoded, or when a seek landed
    after the first wanted frame (the caller then decodes from the start). A stream whose
    frames lack timestamps, or whose timestamps go backwards, is read by
    :func:`_decode_counted` instead.

    With ``skip_unused``, frames that are not wanted and that no other frame references are not
    decoded (:mod:`timesformer.datasets.frame_skipping`). Should a frame that a full decode would
    have given a wanted index (one shown before the frame in hand, of that index or later, or one
    after the stream's last) have been skipped, the pass is decoded again without skipping: the
    images are always those of a full decode.
    """
    stream = container.streams.video[0]
    target = max(clock.pts_before(int(wanted[0])), 0) if seek else 0
    container.seek(target, stream=stream, backward=True)
    skippable = SkippableFrames(clock.index_of, set(wanted.tolist()) if skip_unused else None)
    without_skipping = partial(_decode_wanted, container, wanted, clock, seek, skip_unused=False)
    images, position, last, again = {}, 0, None, None  # last: (frame, pts) of the last decoded
    to_rgb = rgb_converter()
    # Closed before another pass decodes: closing sets the decoder's skip back as it was.
    with closing(decoded_frames(container, stream, skippable.unused)) as frames:
        for frame_number, frame in enumerate(frames):
            pts = frame.pts
            if pts is None or (last is not None and pts <= last[1]):
                again = partial(_decode_counted, container, wanted)
                break
            index = clock.index_of(pts)
            if frame_number == 0 and seek and index > wanted[0]:
                return None
            last = (frame, pts)
            if index < wanted[position]:
                continue
            if skippable.skipped_before(pts, int(wanted[position])):
                again = without_skipping
                break
            image = to_rgb(frame)
            while position < len(wanted) and wanted[position] <= index:
                images[int(wanted[position])] = image
                position += 1
            if position == len(wanted):
                return images
    if again is not None:
        return again()
    if last is None:
        return None
    last_frame, last_pts = last
    if skippable.skipped_after(last_pts):
        return without_skipping()
    last_image = to_rgb(last_frame)
    images.update({int(i): last_image for i in wanted[position:]})
    return images


def _decode_counted(container, wanted: np.ndarray) -> dict[int, np.ndarray] | None:
    """:func:`_decode_wanted` for a stream whose frames lack timestamps or whose timestamps go
    backwards in display order (H.264 with B-frames in AVI, which keeps decode times only):
    frame i is the i-th the decoder gives from the stream's start, every frame decoded."""
    stream = container.streams.video[0]
    container.seek(0, stream=stream, backward=True)
    images, last_frame, wanted_set = {}, None, set(wanted.tolist())
    to_rgb = rgb_converter()
    for index, frame in enumerate(container.decode(stream)):
        if index in wanted_set:
            images[index] = to_rgb(frame)
        if index == wanted[-1]:
            return images
        last_frame = frame
    if last_frame is None:
        return None
    last_image = to_rgb(last_frame)
    images.update({int(i): last_image for i in wanted if int(i) not in images})
    return images


def decode_to_end(container: av.container.InputContainer) -> int:
    """Decode every frame of the first video stream, from the start to its end (without RGB
    conversion), proving that every frame a clip can pick decodes; returns the frame count.

    Raises:
        VideoReadError: a frame does not decode, no frame does, or the stream ends short
            of the length its header gives (a truncated file), by more than
            :data:`END_TOLERANCE` of it (at least 2 frames).
    """
    stream = container.streams.video[0]
    fps = video_fps(stream)
    header_count = estimated_frame_count(container, fps)
    clock = FrameClock.of_stream(container, fps)
    container.seek(0, stream=stream, backward=True)
    count, last_index = 0, -1
    try:
        for frame in container.decode(stream):
            count += 1
            last_index = count - 1 if frame.pts is None else clock.index_of(frame.pts)
    except DECODING_ERRORS as error:
        raise VideoReadError(
            container.name, f"decoding fails after {count} frame(s): {error_reason(error)}"
        ) from error
    if count == 0:
        raise VideoReadError(container.name, "no video frame could be decoded")
    if header_count is not None:
        # An exact count (mp4) is checked against the frames decoded, a length from the
        # duration against the position of the last frame.
        reached = count if stream.frames > 0 else last_index + 1
        if header_count - reached > max(2, END_TOLERANCE * header_count):
            raise VideoReadError(
                container.name,
                f"the stream ends after {reached} of the {header_count} frames its header gives "
                "(truncated?); clips from the missing part cannot be read",
            )
    return count
