"""A long video's timeline in one streaming pass: frames decoded once, in order, windows cut from
a rolling buffer as their last frame arrives (:mod:`~timesformer.engine.window_pass`), scored in
batches by the model in a thread of its own while decoding goes on, optionally smoothed
(:mod:`~timesformer.engine.background_scoring`, :mod:`~timesformer.engine.window_scores`),
each window written to the outputs as it is scored
(:mod:`~timesformer.engine.timeline_outputs`), and, with an annotated copy, every frame written
once its window's label is known (:mod:`~timesformer.engine.annotated_video`).

The source may be live (:mod:`~timesformer.datasets.video_source`): then windows are dropped when
the model is behind, and the pass ends with the stream, a stall, or Ctrl-C; in every case the
windows scored so far are written out.
"""

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction

from fvcore.common.config import CfgNode

from timesformer.datasets.decoder import video_fps
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import decoding_errors_name
from timesformer.datasets.video_source import LiveClock, SourceOptions, is_live, open_source
from timesformer.engine.annotated_video import VIDEO_FORMATS, AnnotatedVideo
from timesformer.engine.background_scoring import BackgroundScorer
from timesformer.engine.inference import load_inference_model, top_k
from timesformer.engine.timeline_outputs import Timeline, TimelineEntry, TimelineWriter
from timesformer.engine.video_windows import WindowPlan
from timesformer.engine.window_pass import WindowPass
from timesformer.engine.window_scores import ScoredWindow, WindowScorer
from timesformer.utils.file_io import atomic_write
from timesformer.utils.interrupt import stop_on_interrupt


@dataclass
class TimelineRequest:
    """What to compute: windows every ``stride`` seconds (None: half a window), the ``top_k``
    classes of each (named by ``class_names``), the centred mean's size ``smooth``,
    ``batch_size`` windows per model run; where: ``output_dir`` (the timeline's files), the
    annotated copy's path (or ""); a live source's ``source`` options, and ``max_waiting``:
    the windows that may wait for the model before the oldest is dropped (None:
    ``batch_size``)."""

    stride: float | None
    top_k: int
    output_dir: str
    smooth: int = 1
    batch_size: int = 1
    output_video: str = ""
    class_names: list[str] | None = None
    source: SourceOptions = field(default_factory=SourceOptions)
    max_waiting: int | None = None


def video_timeline(
    cfg: CfgNode,
    checkpoint: str,
    source: str,
    request: TimelineRequest,
    on_entry: Callable[[TimelineEntry], None] = lambda entry: None,
) -> tuple[Timeline, WindowPass]:
    """The timeline of the video or live source ``source`` by the model of ``checkpoint``,
    written to ``request.output_dir``; ``on_entry`` is called with each window as its scores
    are known. Also returns the pass (its buffer's ``peak_held_frames``, its errors).

    Raises:
        VideoReadError: the source cannot be opened, timed, or no frame of it decodes.
        CheckpointError: see :func:`~timesformer.engine.inference.load_inference_model`.
    """
    live = is_live(source)
    with ExitStack() as stack:
        container = stack.enter_context(
            open_source(source, request.source, cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE)
        )
        stream = container.streams.video[0]
        fps = video_fps(stream)
        with decoding_errors_name(container):
            clock = (
                LiveClock.of_stream(stream, fps) if live else FrameClock.of_stream(container, fps)
            )
        plan = WindowPlan.of_video(cfg, fps, request.stride)
        model = load_inference_model(cfg, checkpoint)
        timeline = Timeline(
            source,
            plan.window_seconds,
            plan.stride,
            request.smooth,
            request.top_k,
            class_names=request.class_names,
        )
        writer = stack.enter_context(
            TimelineWriter(timeline, request.output_dir, cfg.MODEL.NUM_CLASSES)
        )
        annotated = None
        if request.output_video:
            output = stack.enter_context(atomic_write(request.output_video))
            container_format = VIDEO_FORMATS[os.path.splitext(request.output_video)[1].lower()]
            rate = stream.average_rate or Fraction(fps).limit_denominator(1001)
            annotated = AnnotatedVideo(output, container_format, Fraction(rate), plan.window_at)
        scorer = BackgroundScorer(
            WindowScorer(cfg, model, request.smooth),
            request.batch_size,
            request.max_waiting or request.batch_size,
            drop_when_behind=live,
        )

        def take(scored: list[ScoredWindow]) -> None:
            for window in scored:
                entry = _entry(window, plan, request)
                writer.add(entry)
                on_entry(entry)
                if annotated is not None:
                    annotated.set_label(entry.window, _label_lines(entry, plan))

        window_pass = WindowPass(container, clock, plan, from_start=not live)
        with stop_on_interrupt() as stop:
            frame_sink = annotated.add if annotated else None
            for window in window_pass.windows(frame_sink, stop=lambda: stop.requested):
                scorer.put(window)
                take(scorer.take())
            take(scorer.finish())
        if annotated is not None:
            annotated.close()
        timeline.interrupted = stop.requested
        timeline.notes = _notes(timeline, plan, window_pass, scorer, live, request)
    return timeline, window_pass


def _entry(scored: ScoredWindow, plan: WindowPlan, request: TimelineRequest) -> TimelineEntry:
    window = scored.window
    top = []
    if scored.scores is not None:
        top = top_k(scored.scores, request.top_k, request.class_names)
    start = plan.start_time(window.k)
    return TimelineEntry(
        window.k, start, window.end_time, scored.scores, top, window.padded, window.dropped
    )


def _label_lines(entry: TimelineEntry, plan: WindowPlan) -> list[str]:
    """What a frame of ``entry``'s window shows: its time range, then the top classes."""
    when = f"{entry.start:.1f}-{entry.end:.1f} s"
    if entry.skipped:
        return [when, "dropped (model behind)" if entry.dropped else "skipped (undecodable)"]
    lines = [when]
    for ranked in entry.top_k[:3]:
        name = ranked["name"] if ranked["name"] is not None else str(ranked["label"])
        lines.append(f"{name} {ranked['score']:.2f}")
    return lines


def _notes(
    timeline: Timeline,
    plan: WindowPlan,
    window_pass: WindowPass,
    scorer: BackgroundScorer,
    live: bool,
    request: TimelineRequest,
) -> list[str]:
    """What the user should know about these windows, one sentence each."""
    notes = []
    errors = window_pass.errors
    duration = window_pass.buffer.frame_count / plan.fps
    if timeline.padded:
        notes.append(
            f"the video ({duration:.2f} s) is shorter than one window ({plan.window_seconds:.2f} "
            "s): one window over its frames, the last frame repeated (as test views pad "
            "short videos)"
        )
    elif timeline.windows == 1 and plan.stride > duration and not live:
        notes.append(
            f"the stride ({plan.stride:.2f} s) is longer than the video ({duration:.2f} s): "
            "one window"
        )
    if errors.failed_packets:
        undecodable = timeline.skipped - scorer.dropped
        notes.append(
            f"{errors.failed_packets} packet(s) between {errors.first_time:.2f} s and "
            f"{errors.last_time:.2f} s could not be decoded ({errors.first_reason}); "
            f"{undecodable} window(s) over the frames lost are marked skipped"
        )
    if scorer.dropped:
        notes.append(
            f"{scorer.dropped} window(s) dropped because the model was behind the stream "
            f"({scorer.dropped * plan.num_frames} frames of their clips not scored; at most "
            f"{scorer.max_waiting} window(s) wait for the model): marked skipped and dropped"
        )
    if timeline.interrupted:
        notes.append(
            f"stopped by Ctrl-C after {duration:.2f} s of video: the {timeline.windows} "
            "window(s) scored by then are written"
        )
    elif errors.stalled:
        notes.append(
            f"the stream stalled or disconnected after {duration:.2f} s of video (no data for "
            f"{request.source.timeout:g} s, --timeout): the {timeline.windows} window(s) "
            "scored by then are written"
        )
    elif errors.stopped:
        notes.append(f"decoding stopped {errors.stopped}; no window after that")
    elif live:
        notes.append(f"the stream ended after {duration:.2f} s of video")
    if timeline.smooth > 1:
        notes.append(f"scores smoothed: centred mean over {timeline.smooth} windows")
    return notes
