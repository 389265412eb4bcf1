#!/usr/bin/env python3
"""Data-loading benchmark: clips/s of the training loader with one and several clips per video,
against the decode floor and a naive PyAV loader; the CPU cores one GPU needs; and the cost of
one clip from a 5-minute video against one from a 10-second video.

    python tools/benchmark.py --cfg FILE [--synthetic [--cache-dir DIR] [--num-videos N]
        [--no-long-video]] [--clips-per-video K[,K...]] [--floor-videos N]
        [--gpu-clips-per-s N | --gpu-clips-per-s-from FILE] [--json FILE] [KEY VALUE ...]

With --synthetic, 10-second 340x256 H.264 videos (and one 5-minute video, for the seek
comparison, unless --no-long-video) are written once into --cache-dir and used instead of
DATA.PATH_TO_DATA_DIR; without it, the train split of the configured dataset is read.

The training loader (``construct_loader(cfg, "train")``) runs BENCHMARK.NUM_EPOCHS epochs with the
config's DATA, DATA_LOADER and TRAIN.BATCH_SIZE (BENCHMARK.SHUFFLE: reshuffle each epoch;
BENCHMARK.LOG_PERIOD: progress lines), once for each --clips-per-video K
(DATA.TRAIN_CROP_NUM_TEMPORAL; 1 and 2 by default). The first epoch warms up (workers start,
files come into the page cache) and is not timed when there are several. The naive loader
decodes every frame of a video to RGB and then indexes one clip, with the same sampling,
transforms, batch size and workers.

Decode floor: the clips/s one core would deliver if decoding were all a loader did: every frame
of a clip's span decoded once, none converted to RGB (the first span of each of the first
--floor-videos videos in turn, opened as the loader opens them). It is timed in a process of its
own while each loader runs, over the same epochs as the loader, so that both see the machine at
the same speed (a shared machine's speed drifts); fair when the loader's workers and that process
each have a core of their own. With K clips per video the floor decodes the frames their spans
cover once (as the loader's decoder does; averaged over random draws of the same sampling
rule). A loader's clips/s per worker is its clips/s over the workers
that have batches to make (DATA_LOADER.NUM_WORKERS, at most the batches of an epoch; the main
process when 0): a fair figure when each worker has a core of its own.

CPU cores one GPU needs: the GPU's training clips/s (--gpu-clips-per-s, or the first row of a
``tools/benchmark_model.py --json`` file, ``rows[0]["clips_per_s"]["ours"]``) over one worker's
clips/s. A GPU figure that cannot be read is reported after the other figures (exit status 1).
"""

import json
import multiprocessing
import os
import sys
import time
from typing import Callable

import numpy as np
import torch

from timesformer.datasets import construct_loader, shuffle_dataset
from timesformer.datasets.build import build_dataset
from timesformer.datasets.decoder import decoding_passes, estimated_frame_count, video_fps
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.sampling import RANDOM_CLIP, clip_span, dense_clip_indices
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import VideoReadError, open_video
from timesformer.engine.user_errors import errors_end_in_one_line
from timesformer.utils.logging import get_logger, setup_logging
from timesformer.utils.parser import build_arg_parser, load_config_or_exit

logger = get_logger("benchmark")

SHORT_SECONDS, LONG_SECONDS, FPS, HEIGHT, WIDTH = 10, 300, 30, 256, 340
FLOOR_DRAWS = 200
"""Random draws per video that estimate the frames K clips' spans cover."""


class NaiveKinetics(Kinetics):
    """Kinetics that decodes every frame of the video to RGB, then indexes the clip."""

    def load_frames(self, video_idx: int, temporal_idx: int) -> np.ndarray:
        data = self.cfg.DATA
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            fps = float(container.streams.video[0].average_rate)
            frames = np.stack(
                [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
            )
        if len(frames) == 0:
            raise VideoReadError(self.paths[video_idx], "no frames")
        indices = dense_clip_indices(
            len(frames),
            fps,
            data.NUM_FRAMES,
            data.SAMPLING_RATE,
            data.TARGET_FPS,
            temporal_idx,
            self.cfg.TEST.NUM_ENSEMBLE_VIEWS,
        )
        return frames[indices]


def write_synthetic_dataset(cache_dir: str, num_videos: int, long_video: bool = True) -> None:
    """``cache_dir/short``: num_videos 10-second videos + train.csv; ``cache_dir/long`` (when
    ``long_video``): one 5-minute video."""
    kinds = [("short", SHORT_SECONDS, num_videos)] + ([("long", LONG_SECONDS, 1)] * long_video)
    for name, seconds, count in kinds:
        folder = os.path.join(cache_dir, name)
        os.makedirs(folder, exist_ok=True)
        lines = []
        for number in range(count):
            path = os.path.join(folder, f"{name}_{number:03d}.mp4")
            if not os.path.exists(path):
                logger.info("Writing %s (%d s, %dx%d, H.264)", path, seconds, WIDTH, HEIGHT)
                write_video(
                    path + ".partial.mp4",
                    moving_texture_video(seconds * FPS, HEIGHT, WIDTH, seed=number),
                    FPS,
                )
                os.replace(path + ".partial.mp4", path)
            lines.append(f"{os.path.basename(path)} 0\n")
        with open(os.path.join(folder, "train.csv"), "w") as stream:
            stream.writelines(lines)


def decode_floor(cfg, paths: list[str]) -> dict:
    """Decode the first clip span of each video (every frame once, none converted to RGB) in this
    process, opened as the loader opens it; only the decoding is timed.

    Returns:
        ``{"seconds", "frames" (decoded), "videos": [[header frame count, fps], ...]}``.
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
            videos.append([estimated_frame_count(container, fps) or count, fps])
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
        self.timing: dict | None = None

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


def floor_figures(cfg, videos: list[list[float]], timings: list[dict], clips_per_video) -> dict:
    """The decode floor from its timings (one per loader run) and the frames each number of
    clips per video decodes.

    Args:
        videos: ``[header frame count, fps]`` of each video the floor decodes.

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


def frames_per_clip(cfg, videos: list[list[float]], clips_per_video: int) -> float:
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


def clips_per_second(cfg, loader, timing_started: Callable[[], None]) -> float:
    """Run BENCHMARK.NUM_EPOCHS epochs over ``loader``; clips delivered per second, the first
    epoch left out (warm-up) when there are several. ``timing_started`` is called when the
    timed epochs begin."""
    epochs = cfg.BENCHMARK.NUM_EPOCHS
    warm_up_epochs = 1 if epochs > 1 else 0
    clips, start = 0, time.perf_counter()
    for epoch in range(epochs):
        if epoch == warm_up_epochs:
            clips, start = 0, time.perf_counter()
            timing_started()
        if cfg.BENCHMARK.SHUFFLE:
            shuffle_dataset(loader, epoch)
        for iteration, (frames, *_rest) in enumerate(loader):
            clips += frames.shape[0]
            if (iteration + 1) % cfg.BENCHMARK.LOG_PERIOD == 0:
                rate = clips / (time.perf_counter() - start)
                logger.info("epoch %d iter %d: %.1f clips/s", epoch, iteration + 1, rate)
    return clips / (time.perf_counter() - start)


def busy_workers(loader) -> int:
    """Processes that make batches: the loader's workers, at most one per batch of an epoch
    (the main process when it has none)."""
    return max(1, min(loader.num_workers, len(loader)))


def naive_loader(cfg, reference):
    """The same DataLoader settings as ``reference``, over :class:`NaiveKinetics`."""
    return torch.utils.data.DataLoader(
        NaiveKinetics(cfg, "train"),
        batch_size=reference.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=reference.num_workers,
        persistent_workers=reference.num_workers > 0,
        worker_init_fn=reference.worker_init_fn,
    )


def seconds_per_clip(cfg, data_dir: str, num_clips: int = 20) -> float:
    """Mean time of one random training clip (decode + sample + transform) from ``data_dir``'s first
    video."""
    cfg = cfg.clone()
    cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = data_dir
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = 1
    dataset = Kinetics(cfg, "train")
    dataset[0]
    start = time.perf_counter()
    for _ in range(num_clips):
        dataset[0]
    return (time.perf_counter() - start) / num_clips


def read_gpu_clips_per_s(args) -> tuple[float | None, str]:
    """(the GPU's training clips/s, or None; why it is None when it was asked for)."""
    if args.gpu_clips_per_s is not None:
        return args.gpu_clips_per_s, ""
    if args.gpu_clips_per_s_from is None:
        return None, ""
    try:
        with open(args.gpu_clips_per_s_from) as stream:
            return float(json.load(stream)["rows"][0]["clips_per_s"]["ours"]), ""
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        return None, (
            f"--gpu-clips-per-s-from {args.gpu_clips_per_s_from}: no GPU clips/s "
            f"(expected tools/benchmark_model.py --json output, rows[0].clips_per_s.ours): "
            f"{type(error).__name__}: {error}"
        )


def parse_args(argv: list[str] | None):
    parser = build_arg_parser("Benchmark the video data loader against the decode floor.")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="Benchmark on synthetic videos written to --cache-dir (and compare a 5-minute video).",
    )
    parser.add_argument(
        "--cache-dir",
        default=os.path.expanduser("~/.cache/timesformer/benchmark"),
        help="Where synthetic benchmark videos are written once and reused.",
    )
    parser.add_argument(
        "--num-videos", type=int, default=16, help="Synthetic 10-second videos to write."
    )
    parser.add_argument(
        "--no-long-video",
        action="store_true",
        help="Skip the 5-minute synthetic video and the seek comparison that needs it.",
    )
    parser.add_argument(
        "--clips-per-video",
        type=lambda text: [int(k) for k in text.split(",")],
        default=[1, 2],
        metavar="K[,K...]",
        help="DATA.TRAIN_CROP_NUM_TEMPORAL values to run the loader with (default: 1,2).",
    )
    parser.add_argument(
        "--floor-videos", type=int, default=16, help="Videos timed for the decode floor."
    )
    gpu = parser.add_mutually_exclusive_group()
    gpu.add_argument(
        "--gpu-clips-per-s", type=float, metavar="N", help="One GPU's training clips/s."
    )
    gpu.add_argument(
        "--gpu-clips-per-s-from",
        metavar="FILE",
        help="Read one GPU's training clips/s from tools/benchmark_model.py --json output.",
    )
    parser.add_argument("--json", metavar="FILE", help="Also write the figures to FILE as JSON.")
    args = parser.parse_args(argv)
    if min(args.clips_per_video) < 1 or args.num_videos < 1 or args.floor_videos < 1:
        parser.error("--clips-per-video, --num-videos and --floor-videos must be 1 or more")
    return parser, args


def measure_loader(
    cfg, clips_per_video: int, naive: bool, timing_started: Callable[[], None]
) -> dict:
    """clips/s of the training loader (``construct_loader(cfg, "train")``), or of the naive one,
    with DATA.TRAIN_CROP_NUM_TEMPORAL ``clips_per_video``, and the workers that made them
    (``timing_started`` as :func:`clips_per_second`)."""
    cfg = cfg.clone()
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = clips_per_video
    loader = construct_loader(cfg, "train")
    if naive:
        loader = naive_loader(cfg, loader)
    rate = clips_per_second(cfg, loader, timing_started)
    return {
        "loader": "naive" if naive else "timesformer",
        "clips_per_video": clips_per_video,
        "clips_per_s": rate,
        "workers": busy_workers(loader),
        "clips_per_s_per_worker": rate / busy_workers(loader),
    }


def add_floor_and_gpu(
    row: dict, floor: dict, frames_per_s: float, gpu_clips_per_s: float | None
) -> None:
    """Add to ``row`` the floor of its clips per video at ``frames_per_s`` (the floor timed
    while the row's loader ran), its clips/s per worker as a fraction of it, and the CPU cores
    (one loader worker each) that one GPU needs at ``gpu_clips_per_s``."""
    row["floor_clips_per_s"] = frames_per_s / floor["frames_per_clip"][row["clips_per_video"]]
    row["floor_fraction"] = row["clips_per_s_per_worker"] / row["floor_clips_per_s"]
    row["cores_per_gpu"] = (
        gpu_clips_per_s / row["clips_per_s_per_worker"] if gpu_clips_per_s else None
    )


LOADER_NAMES = {
    "timesformer": "timesformer (seek, one pass over the clips' spans, skip unreferenced frames)",
    "naive": "naive PyAV (decode all to RGB, then index)",
}


def loader_table(rows: list[dict]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| loader | clips per video | clips/s | workers | clips/s per worker "
        "| decode floor clips/s | per worker / floor | CPU cores per GPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        cores = f"{row['cores_per_gpu']:.0f}" if row.get("cores_per_gpu") else ""
        lines.append(
            f"| {LOADER_NAMES[row['loader']]} | {row['clips_per_video']} "
            f"| {row['clips_per_s']:.2f} | {row['workers']} | {row['clips_per_s_per_worker']:.2f} "
            f"| {row['floor_clips_per_s']:.2f} | {row['floor_fraction']:.0%} | {cores} |"
        )
    return "\n".join(lines)


def summary_lines(rows: list[dict]) -> list[str]:
    """The ratios against their targets: K clips per video against 1, ours against naive."""
    ours = {row["clips_per_video"]: row for row in rows if row["loader"] == "timesformer"}
    naive = next(row for row in rows if row["loader"] == "naive")
    lines = []
    if 1 in ours:
        lines.append(
            f"1 clip per video: {ours[1]['floor_fraction']:.0%} of the decode floor per worker "
            "(target >= 80%)"
        )
        lines.extend(
            f"{k} clips per video / 1: {row['clips_per_s'] / ours[1]['clips_per_s']:.2f}x clips/s"
            + (" (target >= 1.5x)" if k == 2 else "")
            for k, row in ours.items()
            if k != 1
        )
    single = ours.get(1, rows[0])
    lines.append(
        f"speed-up over the naive loader ({single['clips_per_video']} clip(s) per video): "
        f"{single['clips_per_s'] / naive['clips_per_s']:.2f}x"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser, args = parse_args(argv)
    setup_logging(is_master=True)
    cfg = load_config_or_exit(parser, args)
    gpu_clips_per_s, gpu_problem = read_gpu_clips_per_s(args)
    if args.synthetic:
        write_synthetic_dataset(args.cache_dir, args.num_videos, not args.no_long_video)
        cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = os.path.join(args.cache_dir, "short")
    machine = (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), load average "
        + ", ".join(f"{value:.2f}" for value in os.getloadavg())
    )
    print(f"Machine: {machine}")
    with errors_end_in_one_line(parser):  # e.g. a missing split file, an unreadable video
        paths = build_dataset(cfg.TRAIN.DATASET, cfg, "train").paths[: args.floor_videos]
        videos = decode_floor(cfg, paths)["videos"]  # and a video that does not decode stops here
        rows, timings = [], []
        for clips_per_video, naive in [(k, False) for k in args.clips_per_video] + [(1, True)]:
            with FloorDuringLoader(cfg, paths) as floor_run:
                rows.append(measure_loader(cfg, clips_per_video, naive, floor_run.start_timing))
            timings.append(floor_run.timing)
    floor = floor_figures(cfg, videos, timings, args.clips_per_video)
    for row, timing in zip(rows, timings, strict=True):
        add_floor_and_gpu(row, floor, frames_per_second([timing]), gpu_clips_per_s)
    each = ", ".join(f"{rate:.0f}" for rate in floor["frames_per_s_timings"])
    print(
        f"\nDecode floor ({len(paths)} videos, a process of its own): "
        f"{floor['frames_per_s']:.0f} frames/s decoded, none converted to RGB (timed while "
        f"each loader ran: {each}) = {floor['clips_per_s']:.2f} clip spans/s of "
        f"{floor['frames_per_clip'][1]:.4g} frames"
    )
    if gpu_clips_per_s:
        print(f"GPU training speed: {gpu_clips_per_s:.1f} clips/s")
    print("\n" + loader_table(rows))
    summary = summary_lines(rows)
    print("\n" + "\n".join(summary))
    report = {"machine": machine, "argv": sys.argv[1:] if argv is None else argv, "floor": floor}
    report.update(rows=rows, gpu_clips_per_s=gpu_clips_per_s)
    if args.synthetic and not args.no_long_video:
        short = seconds_per_clip(cfg, os.path.join(args.cache_dir, "short"))
        long = seconds_per_clip(cfg, os.path.join(args.cache_dir, "long"))
        print(
            "\n| video | ms per clip |\n|---|---|\n"
            f"| 10 s | {short * 1e3:.1f} |\n| 5 min | {long * 1e3:.1f} |"
        )
        print(f"\n5-minute / 10-second clip cost: {long / short:.2f}x")
        report["ms_per_clip"] = {"10s": short * 1e3, "5min": long * 1e3}
    print(f"\nLoad average after the run: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=1)
    if gpu_problem:
        print(f"{parser.prog}: error: {gpu_problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
