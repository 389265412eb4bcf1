"""Decoding the frames a clip needs from an open PyAV container.

The decoder seeks to the key frame before the clip's first frame, decodes only
until its last frame and converts to RGB only the frames the clip uses, so one
clip of a minutes-long video costs about as much as one of a short video.
"""

from typing import Callable

import av
import cv2
import numpy as np

from timesformer.datasets.video_container import VideoReadError

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


def decode_clip(container: av.container.InputContainer, choose_frames: ChooseFrames) -> np.ndarray:
    """Decode the frames ``choose_frames`` picks from the first video stream.

    Args:
        container: from :func:`timesformer.datasets.video_container.open_video`.
        choose_frames: gets the video's frame count and frame rate, returns the
            indices to read (sorted or not, repeats allowed).

    Returns:
        frames: (T, H, W, 3) uint8 RGB, in the order of the chosen indices.

    Raises:
        VideoReadError: when the stream is corrupt, no frame can be decoded, or the frames
            cannot become a clip (a pixel format without an RGB conversion, empty frames).
            Frames whose size differs from the first chosen frame's (a stream whose
            resolution changes) are resized to it.
    """
    try:
        return _decode_clip(container, choose_frames)
    except (av.FFmpegError, OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        raise VideoReadError(container.name, f"decoding failed: {reason}") from error


def frames_to_clip(images: list[np.ndarray]) -> np.ndarray:
    """Stack (H, W, 3) uint8 RGB frames into a (T, H, W, 3) clip, resizing (bilinear) any frame
    whose size differs from the first one's, as in a stream whose resolution changes.

    Raises:
        ValueError: a frame is empty (no pixels) or not (H, W, 3).
    """
    for image in images:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError(f"a decoded frame has shape {image.shape}; expected (H, W, 3)")
    height, width = images[0].shape[:2]
    return np.stack(
        [
            image
            if image.shape[:2] == (height, width)
            else cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            for image in images
        ]
    )


def _decode_clip(container, choose_frames: ChooseFrames) -> np.ndarray:
    stream = container.streams.video[0]
    fps = video_fps(stream)
    frame_count = estimated_frame_count(container, fps)
    if frame_count is None:
        return _decode_all_then_choose(container, choose_frames, fps)
    indices = choose_frames(frame_count, fps)
    wanted = np.unique(indices)
    images = _decode_wanted(container, wanted, fps, seek=wanted[0] > 0)
    if images is None:
        images = _decode_wanted(container, wanted, fps, seek=False)
    if images is None:
        raise VideoReadError(container.name, "no video frame could be decoded")
    return frames_to_clip([images[index] for index in indices])


def _decode_all_then_choose(container, choose_frames: ChooseFrames, fps: float) -> np.ndarray:
    """For streams whose header gives no length: decode everything, then pick."""
    frames = list(container.decode(video=0))
    if not frames:
        raise VideoReadError(container.name, "no video frame could be decoded")
    indices = choose_frames(len(frames), fps)
    return frames_to_clip([frames[index].to_ndarray(format="rgb24") for index in indices])


def _decode_wanted(
    container, wanted: np.ndarray, fps: float, seek: bool
) -> dict[int, np.ndarray] | None:
    """Map each wanted frame index to its (H, W, 3) RGB image.

    A wanted index with no frame of its own (variable frame rate, or a header that
    overstates the length) gets the next decoded frame, or the last one at the end
    of the stream. Returns None when nothing was decoded, or when a seek landed
    after the first wanted frame (the caller then decodes from the start).
    """
    stream = container.streams.video[0]
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if seek:
        target_seconds = origin + (wanted[0] - 0.5) / fps
        container.seek(max(int(target_seconds / stream.time_base), 0), stream=stream, backward=True)
    else:
        container.seek(0, stream=stream, backward=True)
    images, position, index, last_frame = {}, 0, -1, None
    for frame_number, frame in enumerate(container.decode(stream)):
        index = index + 1 if frame.pts is None else int(round((frame.time - origin) * fps))
        if frame_number == 0 and seek and index > wanted[0]:
            return None
        last_frame = frame
        if index < wanted[position]:
            continue
        image = frame.to_ndarray(format="rgb24")
        while position < len(wanted) and wanted[position] <= index:
            images[int(wanted[position])] = image
            position += 1
        if position == len(wanted):
            return images
    if last_frame is None:
        return None
    last_image = last_frame.to_ndarray(format="rgb24")
    images.update({int(i): last_image for i in wanted[position:]})
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
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    count, last_index = 0, -1
    try:
        for frame in container.decode(stream):
            count += 1
            last_index = count - 1 if frame.pts is None else round((frame.time - origin) * fps)
    except (av.FFmpegError, OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        raise VideoReadError(
            container.name, f"decoding fails after {count} frame(s): {reason}"
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
