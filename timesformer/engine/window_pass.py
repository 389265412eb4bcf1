"""The windows of one streaming pass over a video: frames decoded once, in order
(:func:`~timesformer.engine.frame_stream.stream_frames`), each window's clip cut from the rolling
buffer (:class:`~timesformer.engine.video_windows.WindowBuffer`) as soon as its last frame has
arrived; what the timeline and the feature timeline both read."""

from collections.abc import Callable, Iterator
from functools import cache, partial

import av
import numpy as np

from timesformer.datasets.clip_frames import rgb_converter
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import VideoReadError
from timesformer.datasets.video_source import LiveClock
from timesformer.engine.frame_stream import DecodingErrors, stream_frames
from timesformer.engine.video_windows import CutWindow, WindowBuffer, WindowPlan

FrameSink = Callable[[int, np.ndarray], None]
"""``(frame index, (H, W, 3) uint8 RGB image)``: every decoded frame, e.g. for an annotated
copy."""


class WindowPass:
    """One pass over ``container``'s first video stream: :meth:`windows` yields its cut windows;
    afterwards ``buffer`` (``frame_count``, ``peak_held_frames``) and ``errors`` (packets that
    failed, why decoding stopped) tell how it went. ``from_start``: seek to the start first
    (a file); else read on from where the container is (a live source)."""

    def __init__(
        self,
        container: av.container.InputContainer,
        clock: FrameClock | LiveClock,
        plan: WindowPlan,
        from_start: bool = True,
    ):
        self.container, self.clock, self.from_start = container, clock, from_start
        self.buffer, self.errors = WindowBuffer(plan), DecodingErrors()

    def windows(
        self, on_frame: FrameSink | None = None, stop: Callable[[], bool] = lambda: False
    ) -> Iterator[CutWindow]:
        """Every window of the video, in order, each as its last frame arrives (a video
        shorter than one window: one padded window at the end); ``on_frame`` gets every
        decoded frame after the windows it completes. ``stop`` is asked after every frame: once
        it says True the pass ends there (no padded window).

        Raises:
            VideoReadError: no frame of the video could be decoded.
        """
        to_rgb = rgb_converter()
        frames = stream_frames(self.container, self.clock, self.errors, self.from_start)
        for decoded in frames:
            image = cache(partial(to_rgb, decoded.frame))  # converted once, when first wanted
            yield from self.buffer.add(decoded.index, image, decoded.lost_before)
            if on_frame is not None:
                on_frame(decoded.index, image())
            if stop():
                return
        if self.buffer.frame_count == 0:
            raise VideoReadError(self.container.name, "no video frame could be decoded")
        yield from self.buffer.finish()
