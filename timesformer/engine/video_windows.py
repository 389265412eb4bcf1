"""Sliding windows over a long video, and the rolling buffer that cuts their clips from one
streaming pass over its frames.

A window is the model's clip: DATA.NUM_FRAMES frames DATA.SAMPLING_RATE apart at
DATA.TARGET_FPS, i.e. ``span = clip_span(...)`` frames of the video
(:func:`~timesformer.datasets.sampling.clip_span`), ``span / fps`` seconds. Window ``k`` starts
at ``k * stride`` seconds, frame position ``s_k = k * stride * fps``, and takes the frames the
test views' dense rule takes for a clip placed there
(:func:`~timesformer.datasets.sampling.spread_indices` from ``s_k`` to ``s_k + span - 1``: the
rule of ``dense_clip_indices``, whose clip 0 of 1 is window 0). A video of N frames has the
windows whose last frame lies in it: about ``floor((duration - window) / stride) + 1``.

Frames arrive in order, each with its frame index. The buffer keeps only the frames an open
window (one whose first frame has arrived and which is not yet cut) wants, cuts a window's clip
as soon as its last frame has arrived, and then drops every frame before the first frame of the
next window still to cut: it never holds more than the frames of the windows that overlap the
latest frame (``ceil(span / (stride * fps)) + 1`` windows of NUM_FRAMES frames at most).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from timesformer.datasets.clip_frames import frames_to_clip
from timesformer.datasets.sampling import clip_span, spread_indices


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of a video at ``fps`` lie.

    Attributes:
        fps: the video's frame rate (frame indices count at it).
        num_frames: frames per window (DATA.NUM_FRAMES).
        span: video frames a window spans (fractional).
        stride: seconds between the starts of consecutive windows.
    """

    fps: float
    num_frames: int
    span: float
    stride: float

    @classmethod
    def of_video(cls, cfg, fps: float, stride: float | None = None) -> "WindowPlan":
        """The windows of the model's clips (cfg.DATA) over a video at ``fps``, starting every
        ``stride`` seconds (default: half a window)."""
        data = cfg.DATA
        span = clip_span(data.NUM_FRAMES, data.SAMPLING_RATE, data.TARGET_FPS, fps)
        return cls(fps, data.NUM_FRAMES, span, stride if stride else span / fps / 2)

    @property
    def window_seconds(self) -> float:
        """How long a window lasts: NUM_FRAMES * SAMPLING_RATE / TARGET_FPS seconds."""
        return self.span / self.fps

    def start_time(self, k: int) -> float:
        """Window ``k``'s start, in seconds: ``k * stride``."""
        return k * self.stride

    def indices(self, k: int, frame_count: int | None = None) -> np.ndarray:
        """(num_frames,) int64 frame indices of window ``k``: spread from ``s_k`` to
        ``s_k + span - 1`` (``s_k = k * stride * fps``), clamped to ``frame_count`` frames when
        given (a video shorter than the window repeats its last frame, as the decoder pads)."""
        start = k * self.stride * self.fps
        end = start + self.span - 1
        available = frame_count if frame_count is not None else math.ceil(end) + 1
        return spread_indices(start, end, self.num_frames, available)

    def first_index(self, k: int) -> int:
        """The first frame window ``k`` takes."""
        return int(self.indices(k)[0])

    def window_at(self, index: int) -> int:
        """The window with the latest start that frame ``index`` does not precede: the largest
        ``k`` with ``first_index(k) <= index`` (the window that covers the frame, when windows
        overlap or touch; the one before a gap otherwise)."""
        k = max(int(index / (self.stride * self.fps)), 0)
        while k > 0 and self.first_index(k) > index:
            k -= 1
        while self.first_index(k + 1) <= index:
            k += 1
        return k


@dataclass
class CutWindow:
    """A window whose frames have all arrived.

    ``clip``: (num_frames, H, W, 3) uint8 RGB; None when one of its frames was lost to a
    decoding error, or when the window was dropped (``dropped``: a live source's model was
    behind), and the window is skipped. ``padded``: the video is shorter than one window,
    whose last frames repeat its last frame. ``end_time``: its end in seconds.
    """

    k: int
    indices: np.ndarray
    clip: np.ndarray | None
    end_time: float
    padded: bool = False
    dropped: bool = False


class WindowBuffer:
    """The rolling buffer of a streaming pass: frames in, windows' clips out, in window order.

    ``held_frames`` counts the distinct frames held now, ``peak_held_frames`` the most held at
    once (right after a frame is stored, before windows are cut and frames dropped).
    """

    def __init__(self, plan: WindowPlan):
        self.plan = plan
        self.cut_count = 0
        self.peak_held_frames = 0
        self._open: dict[int, np.ndarray] = {}  # k -> indices, for windows not yet cut
        self._next_to_open = 0
        self._slots: dict[int, np.ndarray | None] = {}  # wanted index -> image; None: lost
        self._latest = -1
        self._latest_image: Callable[[], np.ndarray] | None = None

    @property
    def held_frames(self) -> int:
        """Distinct frames held (a frame that serves several wanted indices counts once)."""
        return len({id(image) for image in self._slots.values() if image is not None})

    @property
    def frame_count(self) -> int:
        """Frames of the video so far: the latest frame's index + 1."""
        return self._latest + 1

    def add(
        self, index: int, image: Callable[[], np.ndarray], lost_before: bool = False
    ) -> list[CutWindow]:
        """Frame ``index`` (larger than the previous one's), its (H, W, 3) uint8 RGB image made
        by ``image()`` only when a window wants it; ``lost_before``: the frames between the
        previous one and this were lost to a decoding error.

        A wanted index ``w`` with the previous frame's index ``< w <= index`` gets this frame
        (the decoder's rule for an index without a frame of its own), or is lost when ``w <
        index`` and ``lost_before``. Returns the windows whose last frame has now arrived.
        """
        while self.plan.first_index(self._next_to_open) <= index:
            self._open[self._next_to_open] = self.plan.indices(self._next_to_open)
            self._next_to_open += 1
        wanted = {
            int(w) for indices in self._open.values() for w in indices if self._latest < w <= index
        }
        picture = image() if wanted else None
        for w in wanted:
            self._slots[w] = None if lost_before and w < index else picture
        self._latest, self._latest_image = index, image
        self.peak_held_frames = max(self.peak_held_frames, self.held_frames)
        cut = []
        first_open = self.cut_count
        while first_open in self._open and self._open[first_open][-1] <= index:
            indices = self._open.pop(first_open)
            cut.append(self._cut(first_open, indices, [self._slots[int(w)] for w in indices]))
            first_open += 1
        keep_from = self.plan.first_index(self.cut_count)
        self._slots = {w: image for w, image in self._slots.items() if w >= keep_from}
        return cut

    def finish(self) -> list[CutWindow]:
        """At the end of the stream: when no window was cut (a video shorter than one window),
        window 0 over the frames there are, its indices clamped to them (the last frame
        repeated, as the decoder pads short videos); else nothing (the windows the video ends
        inside are left out)."""
        if self.cut_count or self._latest_image is None:
            return []
        frame_count = self._latest + 1
        indices = self.plan.indices(0, frame_count)
        last = self._latest_image()
        images = [last if int(w) == self._latest else self._slots[int(w)] for w in indices]
        window = self._cut(0, indices, images)
        window.end_time, window.padded = frame_count / self.plan.fps, True
        return [window]

    def _cut(self, k: int, indices: np.ndarray, images: list[np.ndarray | None]) -> CutWindow:
        self.cut_count = k + 1
        present = [image for image in images if image is not None]
        clip = frames_to_clip(present) if len(present) == len(images) else None
        end = self.plan.start_time(k) + self.plan.window_seconds
        return CutWindow(k, indices, clip, end)
