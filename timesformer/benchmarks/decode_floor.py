"""The decode floor: the clips/s one core would deliver if decoding were all a loader did.

Every frame of a clip's span is decoded once, none converted to RGB (the first span of each
video in turn, opened as the loader opens it). It is timed in a process of its own while a
loader runs (:class:`FloorDuringLoader`), over the same epochs as the loader, so that both see
the machine at the same speed (a shared machine's speed drifts); fair when the loader's workers
and that process each have a core of their own. With K clips per video the floor decodes the
frames their spans cover once, as the loader's decoder does (:func:`frames_per_clip`, averaged
over random draws of the same sampling rule).
"""

import multiprocessing
import time

import numpy as np

from timesformer.datasets.decoder import decoding_passes, estimated_frame_count, video_fps
from timesformer.datasets.sampling import RANDOM_CLIP, clip_span, dense_clip_indices
from timesformer.datasets.video_container import open_video

FLOOR_DRAWS = 200
"""Random draws per video that estimate the frames K clips' spans cover."""


def decode_floor(cfg, paths: list[str]) -> dict:
    """Decode the first clip span of each video (every frame once, none converted to RGB) in this
    process, opened as the loader opens it; only the decoding is timed.

    Returns:
        ``{"seconds", "frames" (decoded), "videos": [(header frame count, fps), ...]}``.
    """
    data = cfg.DATA
    seconds, spans, videos = 0.0, [], []
    for path in paths:
        with open_video(path, cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE) as container:
            stream = container.streams.video[0]
            fps = video_fps(stream)
            span = clip_span(data.NUM_FRAMES, data.SAMPLING_RATE, data.TARGET_FPS, fps)
            count, start = 0, time.perf_counter()
            for _ in container.decode(stream):
                count += 1
                if count >= span:
                    break
            seconds += time.perf_counter() - start
            videos.append((estimated_frame_count(container, fps) or count, fps))
        spans.append(count)
    return {"seconds": seconds, "frames": sum(spans), "videos": videos}


class FloorDuringLoader:
    """The decode floor timed while a loader runs, in a process of its own: from
    :meth:`start_timing` (the end of the loader's warm-up) until the ``with`` block ends, it
    decodes the first span of each video in turn (:func:`decode_floor`); :attr:`timing` then
    holds the ``{"seconds", "frames"}`` of the spans decoded in that time (at least one span: the
    first one after the block when none was)."""

    def __init__(self, cfg, paths: list[str]):
        context = multiprocessing.get_context("fork")  # as the loader's workers start
        self._timing_started, self._stop = context.Event(), context.Event()
        self._results = context.Queue()
        self._process = context.Process(
            target=_decode_floor_until_stopped,
            args=(cfg, paths, self._timing_started, self._stop, self._results),
            daemon=True,
        )
        self.timing: dict = {}  # set when the with block ends

    def start_timing(self) -> None:
        self._timing_started.set()

    def __enter__(self) -> "FloorDuringLoader":
        self._process.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        result = self._results.get(timeout=600)
        self._process.join()
        if "error" in result:
            raise RuntimeError(f"the decode floor's process failed: {result['error']}")
        self.timing = result


def _decode_floor_until_stopped(cfg, paths, timing_started, stop, results) -> None:
    seconds, frames = 0.0, 0
    try:
        while not stop.is_set() or frames == 0:
            for path in paths:
                counted = timing_started.is_set() or stop.is_set()
                span = decode_floor(cfg, [path])
                if counted:
                    seconds, frames = seconds + span["seconds"], frames + span["frames"]
                if stop.is_set() and frames:
                    break
        results.put({"seconds": seconds, "frames": frames})
    except Exception as error:  # reported by the parent, which waits for a result
        results.put({"error": f"{type(error).__name__}: {error}"})


def floor_figures(
    cfg, videos: list[tuple[int, float]], timings: list[dict], clips_per_video
) -> dict:
    """The decode floor from its timings (one per loader run) and the frames each number of
    clips per video decodes.

    Args:
        videos: ``(header frame count, fps)`` of each video the floor decodes.

    Returns:
        ``{"frames_per_s" (over all timings), "frames_per_s_timings" (each),
        "frames_per_clip": {K: frames}, "clips_per_s" (one clip per video), "videos"}``.
    """
    frames = {k: frames_per_clip(cfg, videos, k) for k in sorted({1, *clips_per_video})}
    overall = frames_per_second(timings)
    return {
        "frames_per_s": overall,
        "frames_per_s_timings": [frames_per_second([timing]) for timing in timings],
        "frames_per_clip": frames,
        "clips_per_s": overall / frames[1],
        "videos": videos,
    }


def frames_per_second(timings: list[dict]) -> float:
    """Frames decoded per second over ``timings`` of :func:`decode_floor`."""
    return sum(t["frames"] for t in timings) / sum(t["seconds"] for t in timings)


def frames_per_clip(cfg, videos: list[tuple[int, float]], clips_per_video: int) -> float:
    """Mean frames decoded per training clip when each video gives ``clips_per_video`` random
    clips whose spans' frames are decoded once (the passes of
    :func:`timesformer.datasets.decoder.decoding_passes`, first to last frame of each)."""
    data = cfg.DATA
    covered = []
    for frame_count, fps in videos:
        for _ in range(FLOOR_DRAWS):
            clips = [
                dense_clip_indices(
                    frame_count,
                    fps,
                    data.NUM_FRAMES,
                    data.SAMPLING_RATE,
                    data.TARGET_FPS,
                    RANDOM_CLIP,
                    1,
                )
                for _ in range(clips_per_video)
            ]
            covered.append(sum(int(p[-1] - p[0]) + 1 for p in decoding_passes(clips)))
    return float(np.mean(covered)) / clips_per_video


def floor_line(floor: dict, num_videos: int) -> str:
    """The report's line on the floor of :func:`floor_figures`, over ``num_videos`` videos."""
    each = ", ".join(f"{rate:.0f}" for rate in floor["frames_per_s_timings"])
    return (
        f"Decode floor ({num_videos} videos, a process of its own): "
        f"{floor['frames_per_s']:.0f} frames/s decoded, none converted to RGB (timed while "
        f"each loader ran: {each}) = {floor['clips_per_s']:.2f} clip spans/s of "
        f"{floor['frames_per_clip'][1]:.4g} frames"
    )
