"""Opening a video file with PyAV, and the error every unreadable video raises."""

import os
from contextlib import contextmanager
from typing import Iterator

import av

from timesformer.errors import TimesformerError
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)


class VideoReadError(TimesformerError, RuntimeError):
    """A video that cannot be opened or decoded; the message names the file and the reason, then
    what to do about it (``advice``, which depends on where the video was read).

    ``VideoReadError(message)``, its message alone (as a loader worker's error is re-created),
    leaves ``path`` None and ``reason`` the whole message.
    """

    def __init__(self, path: str, reason: str | None = None, advice: str = ""):
        if reason is None:
            super().__init__(path)
            self.path, self.reason = None, str(self)
            return
        super().__init__(f"{path}: {reason}" + (f" ({advice})" if advice else ""))
        self.path = path
        self.reason = reason


DECODING_ERRORS = (av.FFmpegError, OSError, ValueError)
"""What PyAV raises on a corrupt stream, and numpy on frames that cannot become a clip."""


def error_reason(error: Exception) -> str:
    """An OS or FFmpeg error's own message (``strerror``), else the error as text."""
    return str(getattr(error, "strerror", None) or error)


@contextmanager
def decoding_errors_name(container: av.container.InputContainer) -> Iterator[None]:
    """Turn a :data:`DECODING_ERRORS` error into a :class:`VideoReadError` naming the file."""
    try:
        yield
    except DECODING_ERRORS as error:
        raise VideoReadError(container.name, f"decoding failed: {error_reason(error)}") from error


def open_video(path: str, multi_thread_decode: bool = True) -> av.container.InputContainer:
    """Open ``path`` for decoding its first video stream.

    Args:
        path: a local video file (mp4, webm, mkv, avi, ...).
        multi_thread_decode: let the codec decode with several threads (frame
            and slice threading). Off: one thread, so that a loader worker uses one
            core (FFmpeg's default, a pool of slice threads per video, lets a worker
            take about 1.6 cores of H.264 decoding, and starts a pool per video).

    Returns:
        An open PyAV container; close it (or use it in a ``with`` block) when done.

    Raises:
        VideoReadError: the file is missing, empty, not a video or has no video stream.
    """
    if not os.path.isfile(path):
        raise VideoReadError(path, "file not found")
    if os.path.getsize(path) == 0:
        raise VideoReadError(path, "empty file (0 bytes)")
    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise VideoReadError(path, f"cannot open: {error_reason(error)}") from error
    if not container.streams.video:
        container.close()
        raise VideoReadError(path, "no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None:  # e.g. an mp4 cut off before its stream's codec parameters
        container.close()
        raise VideoReadError(path, "the video stream has no decoder (unknown codec, or cut off)")
    if multi_thread_decode:
        stream.thread_type = "AUTO"
    else:
        stream.codec_context.thread_count = 1
    return container
