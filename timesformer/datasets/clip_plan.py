"""Planning a clip's seeks: one pass over its span, or a seek to the key frame before each group
of its frames, whichever decodes fewer frames.

A pass seeks to the key frame before its first wanted frame and decodes to its last, less the
frames that no other frame references and the pass does not want
(:mod:`timesformer.datasets.frame_skipping`). An 8 x 32 training clip takes 8 frames of a
256-frame span: with a key frame every 250 frames one pass is nearly always cheapest (a seek
to the second key frame a span may reach saves about 6%, less than :data:`MIN_SAVING`: such
files keep the one pass they were always read with), while with a key frame every few dozen
frames and B-frames that nothing references, a seek per group of frames (the frames after one
key frame) decodes a key frame, the reference frames up to the group's last frame and the
group's own frames, and skips the rest of the span (a quarter of the frames). The cost model
counts, from the stream's :class:`~timesformer.datasets.keyframe_index.KeyframeIndex`, the
frames each pass would decode, plus :data:`SEEK_COST_FRAMES` for each seek; the plan is the
cheapest split of the wanted frames into consecutive passes (dynamic programming over the
groups), taken when it saves at least :data:`MIN_SAVING` of one pass's cost.
"""

import numpy as np

from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.keyframe_index import KeyframeIndex

MIN_SAVING = 0.2
"""The share of one pass's cost a plan of several passes must save to be taken: below it the
frames saved are within the cost model's error (:data:`SEEK_COST_FRAMES` is a measured
average), and files with x264's default key frames (every 250 frames), whose 256-frame spans
reach at most one key frame more, keep the one pass they were always read with (a seek to that
key frame would save about 6% of an 8 x 32 clip's frames)."""
SEEK_COST_FRAMES = 2.0
"""What a pass costs beyond the frames it decodes, in frames' decoding time: the seek, flushing
the decoder, the key frame's larger size and the packets read past the pass's last frame. A pass
for the frame after a key frame took 0.4 (``--random-access``) to 2.9 (x264's defaults) frames'
time more than the frames it decoded (568x320, one thread, 2026-12-03)."""


def pass_start(index: KeyframeIndex, clock: FrameClock, first: int) -> int:
    """The decode position (packet number in ``index``'s stretch) a pass whose first wanted
    frame is ``first`` starts at: the first packet for frame 0 (no seek), else the last key
    frame shown no later than half a frame before ``first`` (where a seek to
    ``clock.pts_before(first)`` lands), the stretch's first packet when there is none."""
    if first <= 0:
        return 0
    landing = np.flatnonzero(index.key & (index.pts <= clock.pts_before(first)))
    if landing.size == 0:
        return 0
    return int(landing[np.argmax(index.pts[landing])])


def frames_decoded(index: KeyframeIndex, start: int, wanted: np.ndarray) -> int:
    """Frames a pass from decode position ``start`` decodes to give the sorted frame indices
    ``wanted``: every packet from ``start`` up to the last one shown at or before the last
    wanted frame (to the stream's end when it is past the last frame), less those that no frame
    references and the pass does not want."""
    shown = index.frame_index[start:]
    by_last = np.flatnonzero(shown <= wanted[-1])
    end = start + (int(by_last[-1]) + 1 if by_last.size else 1)
    read = slice(start, end)
    decoded = index.reference[read] | np.isin(index.frame_index[read], wanted)
    return int(decoded.sum())


def plan_passes(index: KeyframeIndex, clock: FrameClock, wanted: np.ndarray) -> list[np.ndarray]:
    """Split the sorted distinct frame indices ``wanted`` of one pass into consecutive passes,
    one seek each, decoding the fewest frames (plus :data:`SEEK_COST_FRAMES` a seek).

    Frames whose passes would start at the same key frame form a group and stay together; the
    plan tries every split between groups. One pass (``[wanted]``) unless a split saves at
    least :data:`MIN_SAVING` of its cost: always for frames that follow one key frame, and for
    the clips of files with x264's default key frames (every 250 frames).

    Returns:
        the passes' wanted frame indices, each (P,) int64 sorted, in the video's order.
    """
    starts = np.array([pass_start(index, clock, int(frame)) for frame in wanted])
    bounds = [0, *np.flatnonzero(np.diff(starts) != 0) + 1, len(wanted)]
    groups = len(bounds) - 1
    if groups == 1:
        return [wanted]
    # best[j]: (cost, first group of the last pass) of the cheapest plan of groups 0 .. j-1.
    best: list[tuple[float, int]] = [(0.0, 0)]
    for end in range(1, groups + 1):
        options = []
        for first in range(end):
            frames = wanted[bounds[first] : bounds[end]]
            cost = frames_decoded(index, int(starts[bounds[first]]), frames) + SEEK_COST_FRAMES
            options.append((best[first][0] + cost, first))
        best.append(min(options))
    one_pass = frames_decoded(index, int(starts[0]), wanted) + SEEK_COST_FRAMES
    if best[groups][0] > (1 - MIN_SAVING) * one_pass:
        return [wanted]
    passes, end = [], groups
    while end > 0:
        first = best[end][1]
        passes.append(wanted[bounds[first] : bounds[end]])
        end = first
    return passes[::-1]


def planned_frames(index: KeyframeIndex, clock: FrameClock, passes: list[np.ndarray]) -> int:
    """Frames the cost model says ``passes`` decode, seeks not counted."""
    return sum(
        frames_decoded(index, pass_start(index, clock, int(frames[0])), frames) for frames in passes
    )
