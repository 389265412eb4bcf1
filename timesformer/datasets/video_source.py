"""Where a timeline's frames come from: a video file, or a live source, anything else FFmpeg
(PyAV) opens: a network stream (``rtsp://``, ``udp://``, ``rtp://``, ``http(s)://``,
``tcp://``, ``srt://``, ...), a camera (a V4L2 device such as ``/dev/video0``), or ``-``, a
pipe on standard input.

A live source is read as it arrives: no seeking, frame 0 is the first frame that arrives
(:class:`LiveClock`: a stream joined after hours has timestamps of hours), and its end is the
end of the stream (the sender closed it) or a stall: no data for ``timeout`` seconds (PyAV's
``timeout``, FFmpeg's interrupt callback), which also bounds how long opening it (probing the
stream) may take.
"""

import os
import stat
import sys
from dataclasses import dataclass, field

import av

from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import VideoReadError, error_reason, open_video

STDIN = "-"
"""The source name of standard input."""


@dataclass(frozen=True)
class SourceOptions:
    """How to open a live source: ``timeout`` seconds without data end it (or fail its
    opening); ``input_format``: the demuxer, when FFmpeg cannot tell it (e.g. ``mpegts`` on a
    pipe; ``v4l2`` for a camera device); ``options``: the demuxer's and the protocol's options
    (e.g. ``{"rtsp_transport": "tcp"}``)."""

    timeout: float = 10.0
    input_format: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def is_live(source: str) -> bool:
    """``source`` is a live source: ``-``, a URL (``scheme://``), or a device or pipe (a
    character device or a FIFO), not a regular file."""
    if source == STDIN or "://" in source:
        return True
    try:
        mode = os.stat(source).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def open_source(
    source: str, options: SourceOptions, multi_thread_decode: bool = True
) -> av.container.InputContainer:
    """Open ``source`` for decoding its first video stream: a file as
    :func:`~timesformer.datasets.video_container.open_video` does, a live source with
    ``options``.

    Raises:
        VideoReadError: it cannot be opened (nothing arrived within the timeout, a refused
            connection, no video stream, ...).
    """
    if not is_live(source):
        return open_video(source, multi_thread_decode)
    input_format = options.input_format
    if input_format is None and source.startswith("/dev/video"):
        input_format = "v4l2"
    target = sys.stdin.buffer if source == STDIN else source
    try:
        container = av.open(
            target,
            "r",
            format=input_format,
            options=dict(options.options),
            timeout=options.timeout,
            metadata_errors="ignore",
        )
    except av.error.ExitError as error:
        raise VideoReadError(
            source, f"nothing could be read within {options.timeout:g} s (--timeout)"
        ) from error
    except (av.FFmpegError, OSError) as error:
        raise VideoReadError(source, f"cannot open: {error_reason(error)}") from error
    if not container.streams.video:
        container.close()
        raise VideoReadError(source, "no video stream")
    if multi_thread_decode:
        container.streams.video[0].thread_type = "AUTO"
    return container


class LiveClock:
    """``pts -> frame index`` of a live stream at ``fps``: a
    :class:`~timesformer.datasets.frame_clock.FrameClock` whose frame 0 is the first timestamp
    it is asked about (the first packet that arrives); ``time_base``: (numerator,
    denominator)."""

    def __init__(self, time_base: tuple[int, int], fps: float):
        self.time_base, self.fps = time_base, fps
        self._clock: FrameClock | None = None

    @classmethod
    def of_stream(cls, stream: av.video.stream.VideoStream, fps: float) -> "LiveClock":
        """The clock of ``stream``.

        Raises:
            ValueError: the stream has no time base.
        """
        if stream.time_base is None:
            raise ValueError("its video stream has no time base")
        return cls((stream.time_base.numerator, stream.time_base.denominator), fps)

    def index_of(self, pts: int) -> int:
        """The frame index of a frame shown at ``pts`` (0 for the first timestamp asked)."""
        if self._clock is None:
            self._clock = FrameClock(self.time_base, self.fps, pts)
        return self._clock.index_of(pts)
