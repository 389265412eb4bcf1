"""The annotated copy of a video: its frames with the label of the window they lie in drawn on
them, encoded H.264 (libx264) at the input's frame rate while the input is decoded.

A frame is labelled by the window with the latest start that the frame does not precede
(:meth:`~timesformer.engine.video_windows.WindowPlan.window_at`): when windows overlap or touch,
the latest window that covers it; in a gap between windows, the window before the gap; after
the last window, the last one. A frame thus waits, in its decoded form, until that window's
scores are known: one window's span after the window starts, plus the windows waiting for the
model and the smoothing the scores wait for (:mod:`timesformer.engine.background_scoring`, at
most two batches of a file's windows; :mod:`timesformer.engine.window_scores`), i.e. about
``window + (2 * batch_size + smooth // 2) * stride`` seconds of frames are held.
"""

from collections import deque
from collections.abc import Callable
from fractions import Fraction
from typing import IO

import av
import cv2
import numpy as np

VIDEO_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""The annotated copy's file extensions, and the container each writes (H.264 in all three)."""

Label = list[str]
"""The lines drawn on a frame (e.g. ``"walking 0.87"``), top to bottom."""


def draw_label(image: np.ndarray, lines: Label) -> np.ndarray:
    """Draw ``lines`` in white on a dark band at the top of ``image`` (H, W, 3) uint8 RGB, in
    place; the text's size follows the frame's height. Returns ``image``."""
    height = image.shape[0]
    scale = max(height / 720, 0.25)
    thickness = max(int(round(2 * scale)), 1)
    line_height = int(round(30 * scale)) + 2
    band = line_height * len(lines) + 4
    cv2.rectangle(image, (0, 0), (image.shape[1] - 1, band), (0, 0, 0), cv2.FILLED)
    for row, line in enumerate(lines):
        origin = (4, line_height * (row + 1) - 2)
        cv2.putText(
            image, line, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness,
            cv2.LINE_AA,
        )  # fmt: skip
    return image


class AnnotatedVideo:
    """Frames in (index, RGB image), in order; each written, labelled, once the label of its
    window is known (:meth:`set_label`, windows in order); :meth:`close` writes the rest with
    the last label.

    ``stream``: a seekable binary file to write (e.g. from
    :func:`~timesformer.utils.file_io.atomic_write`); ``container_format``: a value of
    :data:`VIDEO_FORMATS`; ``rate``: the input's frame rate; ``window_of``: frame index ->
    the window whose label it gets. Frames of odd width or height lose their last column or row
    (yuv420p needs even sizes). ``held_frames``: the frames waiting now.
    """

    def __init__(
        self,
        stream: IO[bytes],
        container_format: str,
        rate: Fraction,
        window_of: Callable[[int], int],
    ):
        self.rate, self.window_of = rate, window_of
        self.container = av.open(stream, "w", format=container_format)
        self.video: av.video.stream.VideoStream | None = None
        self.written = 0
        self._waiting: deque[tuple[int, np.ndarray]] = deque()
        self._labels: dict[int, Label] = {}
        self._last_label: Label = []
        self._known_up_to = -1

    @property
    def held_frames(self) -> int:
        """Frames waiting for their window's label."""
        return len(self._waiting)

    def add(self, index: int, image: np.ndarray) -> None:
        """Frame ``index``'s (H, W, 3) uint8 RGB image, to write once its window's label is
        known."""
        self._waiting.append((index, image))
        self._write_ready()

    def set_label(self, k: int, lines: Label) -> None:
        """Window ``k``'s label (windows come in order, each once)."""
        self._labels[k], self._known_up_to, self._last_label = lines, k, lines
        self._write_ready()

    def close(self) -> None:
        """Write the frames still waiting, with their window's label or else the last one, and
        finish the file."""
        while self._waiting:
            index, image = self._waiting.popleft()
            self._write(index, image, self._labels.get(self.window_of(index), self._last_label))
        if self.video is not None:
            self.container.mux(self.video.encode(None))
        self.container.close()

    def _write_ready(self) -> None:
        while self._waiting and self.window_of(self._waiting[0][0]) <= self._known_up_to:
            index, image = self._waiting.popleft()
            k = self.window_of(index)
            self._write(index, image, self._labels[k])
            # Labels of windows before k are no longer needed by any frame to come.
            self._labels = {w: lines for w, lines in self._labels.items() if w >= k}

    def _write(self, index: int, image: np.ndarray, lines: Label) -> None:
        height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
        if self.video is None:
            self.video = self.container.add_stream("libx264", rate=self.rate)
            self.video.width, self.video.height = width, height
            self.video.pix_fmt = "yuv420p"
        # A copy: the image may still be in a window's clip that is not cut yet.
        frame_image = np.array(image[:height, :width])
        frame = av.VideoFrame.from_ndarray(draw_label(frame_image, lines), format="rgb24")
        # pts in frames at ``rate``: a frame keeps its time, also after frames lost before it.
        frame.pts, frame.time_base = index, 1 / self.rate
        self.container.mux(self.video.encode(frame))
        self.written += 1
