"""A long video's timeline in one streaming pass: frames decoded once, in order
(:mod:`~timesformer.engine.frame_stream`), windows cut from a rolling buffer as their last frame
arrives (:mod:`~timesformer.engine.video_windows`), scored in batches and optionally smoothed
(:mod:`~timesformer.engine.window_scores`), and, with an annotated copy, every frame written
once its window's label is known (:mod:`~timesformer.engine.annotated_video`)."""

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from fvcore.common.config import CfgNode

from timesformer.datasets.clip_frames import rgb_converter
from timesformer.datasets.decoder import video_fps
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import (
    VideoReadError,
    decoding_errors_name,
    open_video,
)
from timesformer.engine.annotated_video import VIDEO_FORMATS, AnnotatedVideo
from timesformer.engine.frame_stream import DecodingErrors, stream_frames
from timesformer.engine.inference import load_inference_model, top_k
from timesformer.engine.timeline_outputs import Timeline, TimelineEntry
from timesformer.engine.video_windows import WindowBuffer, WindowPlan
from timesformer.engine.window_scores import ScoredWindow, WindowScorer
from timesformer.utils.file_io import atomic_write


@dataclass
class TimelineRequest:
    """What to compute: windows every ``stride`` seconds (None: half a window), the ``top_k``
    classes of each (named by ``class_names``), the centred mean's size ``smooth``,
    ``batch_size`` windows per model run, and the annotated copy's path (or "")."""

    stride: float | None
    top_k: int
    smooth: int = 1
    batch_size: int = 1
    output_video: str = ""
    class_names: list[str] | None = None


def video_timeline(
    cfg: CfgNode,
    checkpoint: str,
    path: str,
    request: TimelineRequest,
    on_entry: Callable[[TimelineEntry], None] = lambda entry: None,
) -> tuple[Timeline, WindowBuffer]:
    """The timeline of the video ``path`` by the model of ``checkpoint``; ``on_entry`` is called
    with each window as its scores are known. Also returns the pass's buffer (its
    ``peak_held_frames``).

    Raises:
        VideoReadError: the video cannot be opened, timed, or no frame of it decodes.
        CheckpointError: see :func:`~timesformer.engine.inference.load_inference_model`.
    """
    with ExitStack() as stack:
        container = stack.enter_context(
            open_video(path, cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE)
        )
        stream = container.streams.video[0]
        fps = video_fps(stream)
        with decoding_errors_name(container):
            clock = FrameClock.of_stream(container, fps)
        plan = WindowPlan.of_video(cfg, fps, request.stride)
        model = load_inference_model(cfg, checkpoint)
        scorer = WindowScorer(cfg, model, request.batch_size, request.smooth)
        timeline = Timeline(
            path,
            plan.window_seconds,
            plan.stride,
            request.smooth,
            request.top_k,
            class_names=request.class_names,
        )
        annotated = None
        if request.output_video:
            output = stack.enter_context(atomic_write(request.output_video))
            container_format = VIDEO_FORMATS[os.path.splitext(request.output_video)[1].lower()]
            rate = stream.average_rate or Fraction(fps).limit_denominator(1001)
            annotated = AnnotatedVideo(output, container_format, Fraction(rate), plan.window_at)

        def take(scored: list[ScoredWindow]) -> None:
            for window in scored:
                entry = _entry(window, plan, request)
                timeline.entries.append(entry)
                on_entry(entry)
                if annotated is not None:
                    annotated.set_label(entry.window, _label_lines(entry, plan))

        buffer, errors, to_rgb = WindowBuffer(plan), DecodingErrors(), rgb_converter()
        for decoded in stream_frames(container, clock, errors):
            image = cache(lambda frame=decoded.frame: to_rgb(frame))
            for window in buffer.add(decoded.index, image, decoded.lost_before):
                take(scorer.add(window))
            if annotated is not None:
                annotated.add(decoded.index, image())
        if buffer.frame_count == 0:
            raise VideoReadError(path, "no video frame could be decoded")
        for window in buffer.finish():
            take(scorer.add(window))
        take(scorer.finish())
        if annotated is not None:
            annotated.close()
    timeline.notes = _notes(timeline, plan, buffer, errors)
    return timeline, buffer


def _entry(scored: ScoredWindow, plan: WindowPlan, request: TimelineRequest) -> TimelineEntry:
    window = scored.window
    top = []
    if scored.scores is not None:
        top = top_k(scored.scores, request.top_k, request.class_names)
    start = plan.start_time(window.k)
    return TimelineEntry(window.k, start, window.end_time, scored.scores, top, window.padded)


def _label_lines(entry: TimelineEntry, plan: WindowPlan) -> list[str]:
    """What a frame of ``entry``'s window shows: its time range, then the top classes."""
    when = f"{entry.start:.1f}-{entry.end:.1f} s"
    if entry.skipped:
        return [when, "skipped (undecodable)"]
    lines = [when]
    for ranked in entry.top_k[:3]:
        name = ranked["name"] if ranked["name"] is not None else str(ranked["label"])
        lines.append(f"{name} {ranked['score']:.2f}")
    return lines


def _notes(timeline: Timeline, plan: WindowPlan, buffer: WindowBuffer, errors) -> list[str]:
    """What the user should know about these windows, one sentence each."""
    notes = []
    duration = buffer.frame_count / plan.fps
    if any(entry.padded for entry in timeline.entries):
        notes.append(
            f"the video ({duration:.2f} s) is shorter than one window ({plan.window_seconds:.2f} "
            "s): one window over its frames, the last frame repeated (as test views pad "
            "short videos)"
        )
    elif len(timeline.entries) == 1 and plan.stride > duration:
        notes.append(
            f"the stride ({plan.stride:.2f} s) is longer than the video ({duration:.2f} s): "
            "one window"
        )
    if errors.failed_packets:
        skipped = sum(entry.skipped for entry in timeline.entries)
        notes.append(
            f"{errors.failed_packets} packet(s) between {errors.first_time:.2f} s and "
            f"{errors.last_time:.2f} s could not be decoded ({errors.first_reason}); "
            f"{skipped} window(s) over the frames lost are marked skipped"
        )
    if errors.stopped:
        notes.append(f"decoding stopped {errors.stopped}; no window after that")
    if timeline.smooth > 1:
        notes.append(f"scores smoothed: centred mean over {timeline.smooth} windows")
    return notes
