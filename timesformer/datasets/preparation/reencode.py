"""Re-encoding one video to a short side: decoded, scaled in YUV (never through RGB) and encoded
as H.264 with one thread each, its frames' timestamps copied through, its audio dropped; written
under a temporary name and renamed only once complete.

The settings are those of ``ffmpeg -threads 1 -i IN -vf scale=W:H:flags=bicubic -c:v libx264
-preset P -crf C -threads 1 -filter_threads 1 -an -pix_fmt yuv420p OUT.mp4`` (the command the
resize benchmark compares with), except that the timestamps are kept as they are: ffmpeg makes
an mp4's frame rate constant, duplicating or dropping frames of a variable-frame-rate video.
"""

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

import av
from av.video.reformatter import Interpolation, VideoReformatter

from timesformer.datasets.decoder import END_TOLERANCE, video_fps
from timesformer.datasets.preparation.random_access import (
    RANDOM_ACCESS_B_FRAMES,
    RANDOM_ACCESS_FAST_DECODE,
    RANDOM_ACCESS_GOP,
    RANDOM_ACCESS_REFERENCE_B_FRAMES,
)
from timesformer.datasets.video_container import (
    VideoReadError,
    decoding_errors_name,
    error_reason,
    open_video,
)
from timesformer.utils.file_io import PARTIAL_SUFFIX, disk_full_error

SCALING = Interpolation.BICUBIC
"""The scaling filter: ffmpeg's ``scale`` filter's default (``flags=bicubic``)."""


@dataclass(frozen=True)
class EncodeSettings:
    """How every video is re-encoded.

    Attributes:
        short_side: the output's shorter side in pixels (even).
        crf: x264's constant rate factor (0 lossless .. 51; 23 is x264's default).
        preset: one of :data:`~timesformer.datasets.preparation.x264_presets.X264_PRESETS`.
        only_larger: do not upscale: a video whose short side is at most ``short_side`` keeps
            its size (each side rounded down to even).
        gop: frames from one key frame to the next at most (x264's ``keyint``, ffmpeg's
            ``-g``); None: x264's default, 250. x264 also starts a key frame at a scene cut.
        b_frames: consecutive B-frames at most (x264's ``bframes``, ffmpeg's ``-bf``); None:
            the preset's (3 for medium).
        reference_b_frames: let B-frames be referenced (x264's B-pyramid, the preset's
            default); False: ``b-pyramid=none``, so that no frame references a B-frame and
            the decoder may skip every B-frame a clip does not use.
        fast_decode: x264's ``tune=fastdecode``: CAVLC instead of CABAC entropy coding, no
            deblocking filter, no weighted prediction; each frame decodes in about half the
            time, for more bytes at the same CRF.
    """

    short_side: int = 320
    crf: float = 23.0
    preset: str = "medium"
    only_larger: bool = False
    gop: int | None = None
    b_frames: int | None = None
    reference_b_frames: bool = True
    fast_decode: bool = False

    def x264_options(self) -> dict[str, str]:
        """The libx264 encoder's options (as ffmpeg's ``-preset``, ``-crf``, ``-threads``, and
        ``-g``, ``-bf``, ``-b-pyramid none``, ``-tune fastdecode`` when set)."""
        options = {"preset": self.preset, "crf": f"{self.crf:g}", "threads": "1"}
        if self.gop is not None:
            options["g"] = str(self.gop)
        if self.b_frames is not None:
            options["bf"] = str(self.b_frames)
        if not self.reference_b_frames:
            options["b-pyramid"] = "none"
        if self.fast_decode:
            options["tune"] = "fastdecode"
        return options


def random_access_settings(settings: EncodeSettings) -> EncodeSettings:
    """``settings`` with the key frames, B-frames and tuning of the resize verb's
    ``--random-access``: a key frame every 16 frames, 3 B-frames, none referenced, x264's fast
    decode (``gop=16, b_frames=3, reference_b_frames=False, fast_decode=True``), so that a
    training clip's frames each get a seek of their own, the frames between are mostly skipped
    and each decodes in about half the time: about a quarter of the frames per 8 x 32 clip
    decoded, about 4x the clips per core, for about 1.5x the bytes (the measurements:
    :mod:`~timesformer.datasets.preparation.random_access`)."""
    return replace(
        settings,
        gop=RANDOM_ACCESS_GOP,
        b_frames=RANDOM_ACCESS_B_FRAMES,
        reference_b_frames=RANDOM_ACCESS_REFERENCE_B_FRAMES,
        fast_decode=RANDOM_ACCESS_FAST_DECODE,
    )


class EncodeError(Exception):
    """Writing the output failed for a reason other than a full disk; the message says why."""


def nearest_even(value: float) -> int:
    """``value`` rounded to the nearest even integer (halves up), at least 2."""
    return max(2, 2 * math.floor(value / 2 + 0.5))


def output_size(width: int, height: int, settings: EncodeSettings) -> tuple[int, int]:
    """``(width, height)`` of the output of a ``width`` x ``height`` video: the short side
    ``settings.short_side`` (with ``only_larger``, the video's own when not longer, rounded down
    to even), the long side scaled by the same factor and rounded to the nearest even number."""
    short, long = min(width, height), max(width, height)
    target = settings.short_side
    if settings.only_larger and short <= target:
        target = max(2, short - short % 2)
    scaled_long = nearest_even(long * target / short)
    return (scaled_long, target) if width >= height else (target, scaled_long)


def partial_path(destination: str) -> str:
    """Where this process writes ``destination`` until it is complete (``NAME.tmp.PID``, the
    name :func:`timesformer.utils.file_io.remove_stale_partial_files` clears after a crash)."""
    return f"{destination}{PARTIAL_SUFFIX}{os.getpid()}"


def reencode_video(source: str, destination: str, settings: EncodeSettings) -> int:
    """Re-encode ``source`` into ``destination`` (an mp4; its folder is created); returns the
    frames written.

    Written to :func:`partial_path` first, flushed to disk and renamed to ``destination`` only
    when complete; on any failure the partial file is removed and ``destination`` is untouched.

    Raises:
        VideoReadError: ``source`` cannot be opened or decoded, holds no frame, or ends well
            short of the length its header gives (truncated).
        DiskFullError: the output's disk (or quota) is full.
        EncodeError: the output cannot be written for another reason (named).
    """
    partial = partial_path(destination)
    try:
        with open_video(source, multi_thread_decode=False) as container:
            frames = _transcode(container, partial, settings)
        _flush_to_disk(partial)
        os.replace(partial, destination)
    except (EncodeError, OSError) as error:
        full = disk_full_error(destination, error)
        if full is not None:
            raise full from error
        if isinstance(error, EncodeError):
            raise
        raise EncodeError(f"cannot write {destination}: {error_reason(error)}") from error
    finally:
        if os.path.lexists(partial):
            os.remove(partial)
    return frames


def _transcode(
    container: av.container.InputContainer, partial: str, settings: EncodeSettings
) -> int:
    """Decode ``container``'s first video stream into the mp4 ``partial``; the frame count."""
    frames = _decoded_frames(container)
    first = next(frames, None)
    if first is None:
        raise VideoReadError(container.name, "no video frame could be decoded")
    source = container.streams.video[0]
    rate = source.average_rate or source.guessed_rate or Fraction(30)
    time_base = source.time_base or Fraction(1, 90000)
    size = output_size(first.width, first.height, settings)
    os.makedirs(os.path.dirname(partial) or ".", exist_ok=True)
    try:
        with av.open(partial, mode="w", format="mp4") as output:
            writer = _H264Writer(output, rate, time_base, size, settings)
            for frame in _chain(first, frames):
                writer.write(frame)
            writer.finish()
    except (av.FFmpegError, ValueError) as error:  # decoding errors are VideoReadErrors here
        raise EncodeError(f"encoding failed: {error_reason(error)}") from error
    _check_not_truncated(container, writer.count, writer.last_pts, time_base)
    return writer.count


class _H264Writer:
    """Frames scaled to one size (in YUV, one thread) and encoded into an mp4's H.264 stream,
    each keeping its timestamp and duration (``time_base``: the source stream's)."""

    def __init__(
        self,
        output: av.container.OutputContainer,
        rate: Fraction,
        time_base: Fraction,
        size: tuple[int, int],
        settings: EncodeSettings,
    ):
        self.output, self.size, self.time_base = output, size, time_base
        self.stream = output.add_stream(
            "libx264",
            rate=rate,
            time_base=time_base,
            width=size[0],
            height=size[1],
            options=settings.x264_options(),
        )
        self.stream.codec_context.thread_count = 1
        self.scaler = VideoReformatter()
        self.step = max(1, round(1 / (rate * time_base)))  # one frame's duration
        self.count, self.last_pts = 0, 0
        self.durations: dict[int, int] = {}

    def write(self, frame: av.VideoFrame) -> None:
        """Scale and encode ``frame`` (:func:`_timestamp` gives its timestamp)."""
        pts = _timestamp(frame.pts, self.last_pts if self.count else None, self.step)
        width, height = self.size
        scaled = self.scaler.reformat(
            frame, width, height, "yuv420p", interpolation=SCALING, threads=1
        )
        scaled.pts, scaled.time_base = pts, self.time_base
        scaled.pict_type = av.video.frame.PictureType.NONE  # x264 chooses the frame types
        self.durations[pts] = frame.duration
        self._mux(self.stream.encode(scaled))
        self.count, self.last_pts = self.count + 1, pts

    def finish(self) -> None:
        """Flush the encoder's delayed frames."""
        self._mux(self.stream.encode(None))

    def _mux(self, packets: list[av.Packet]) -> None:
        """Mux ``packets``, each with its frame's duration (the encoder gives none; the muxer
        needs the last one's for the stream's length, and so its average frame rate)."""
        for packet in packets:
            packet.duration = self.durations.pop(packet.pts, 0) if packet.pts is not None else 0
            self.output.mux(packet)


def _decoded_frames(container: av.container.InputContainer) -> Iterator[av.VideoFrame]:
    """The first video stream's frames, in display order; a decoding error is a
    :class:`VideoReadError` naming the file."""
    with decoding_errors_name(container):
        yield from container.decode(video=0)


def _chain(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    """``first``, then the frames of ``rest``."""
    yield first
    yield from rest


def _timestamp(pts: int | None, last_pts: int | None, step: int) -> int:
    """A frame's output timestamp: its own (timestamps are copied through, so a variable frame
    rate stays as it is), or, where it has none or it does not follow the previous one (an
    encoder needs them increasing), one frame's duration ``step`` after the previous one
    (``last_pts`` None: the first frame)."""
    if last_pts is None:
        return 0 if pts is None else pts
    if pts is None or pts <= last_pts:
        return last_pts + step
    return pts


def _check_not_truncated(
    container: av.container.InputContainer,
    count: int,
    last_pts: int,
    time_base: Fraction,
) -> None:
    """Raise :class:`VideoReadError` when the decoded frames end short of the duration the
    header gives by more than :data:`~timesformer.datasets.decoder.END_TOLERANCE` of it (and
    more than two frames): the file is cut short. The duration is the video stream's, or the
    container's when it holds nothing else (a longer audio track would not tell)."""
    stream = container.streams.video[0]
    if stream.duration is not None:
        header_seconds = float(stream.duration * time_base)
    elif container.duration is not None and len(container.streams) == 1:  # not the audio's
        header_seconds = container.duration / av.time_base
    else:
        return
    start = float((stream.start_time or 0) * time_base)
    frame_seconds = 1 / video_fps(stream)
    reached = float(last_pts * time_base) - start + frame_seconds
    if header_seconds - reached > max(2 * frame_seconds, END_TOLERANCE * header_seconds):
        raise VideoReadError(
            container.name,
            f"the stream ends after {reached:.2f} s of the {header_seconds:.2f} s its header "
            f"gives ({count} frames decoded; truncated?)",
        )


def _flush_to_disk(path: str) -> None:
    """Flush ``path``'s data to its device, so that the name it is renamed to never holds a
    file that a power cut leaves empty."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
