"""The resize verb's speed against the ffmpeg command line doing the same re-encode.

Four ways to resize one set of videos, timed in turn in each round (the order reversed every
other round, so that a machine whose speed drifts favours none): the ffmpeg command line, one
file at a time (:func:`ffmpeg_command`: the scale filter, size and x264 settings of
:mod:`timesformer.datasets.preparation.reencode`, one thread each for decoding, scaling and
encoding); :func:`~timesformer.datasets.preparation.resize.resize_tree` with one job; the
ffmpeg command line two files at a time (what two processes get from this machine: the
reference for two jobs); and ``resize_tree`` with two jobs. Each figure is frames written per
second of wall time over every round, with the CPU time it took (children included: the
workers, the ffmpeg processes), so that a process's use of more than one core shows. The
outputs' sizes, and the options x264 writes into each stream, show whether all encoded alike.
"""

import os
import re
import resource
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import av

from timesformer.benchmarks.machine import load_average, machine_description
from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.reencode import EncodeSettings, output_size
from timesformer.datasets.preparation.resize import find_videos, output_name, resize_tree
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

METHODS = ("ffmpeg", "ours_1_job", "ffmpeg_2_processes", "ours_2_jobs")
"""The four ways, in the order of the even rounds."""
METHOD_NAMES = {
    "ffmpeg": "ffmpeg CLI, one file at a time (-threads 1)",
    "ours_1_job": "prepare_dataset.py resize --jobs 1",
    "ffmpeg_2_processes": "ffmpeg CLI, two files at a time (-threads 1 each)",
    "ours_2_jobs": "prepare_dataset.py resize --jobs 2",
}
METHOD_PROCESSES = {"ffmpeg": 1, "ours_1_job": 1, "ffmpeg_2_processes": 2, "ours_2_jobs": 2}
"""The processes each way runs at once."""
_X264_OPTIONS = re.compile(rb"x264 - core (\d+)[^\x00]*?options: ([^\x00]*)")


@dataclass
class Timing:
    """One pass of one way over the videos."""

    seconds: float
    cpu_seconds: float
    frames: int
    output_bytes: int


def write_benchmark_videos(
    folder: str, count: int, seconds: float, width: int = 640, height: int = 360, fps: int = 30
) -> str:
    """``count`` H.264 videos of a moving texture in ``folder`` (written once, reused);
    returns ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for number in range(count):
        path = os.path.join(folder, f"clip_{number:03d}.mp4")
        if not os.path.exists(path):
            logger.info("Writing %s (%g s, %dx%d, %d fps)", path, seconds, width, height, fps)
            frames = moving_texture_video(round(seconds * fps), height, width, seed=number)
            os.replace(write_video(path + ".partial.mp4", frames, fps), path)
    return folder


def ffmpeg_command(
    ffmpeg: str, source: str, destination: str, size: tuple[int, int], settings: EncodeSettings
) -> list[str]:
    """The ffmpeg command line doing what the resize verb does to one video (but for the frame
    rate: ffmpeg makes an mp4's constant), each stage with one thread."""
    width, height = size
    return [
        ffmpeg,
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-filter_threads",
        "1",
        "-threads",
        "1",
        "-i",
        source,
        "-vf",
        f"scale={width}:{height}:flags=bicubic",
        "-c:v",
        "libx264",
        "-preset",
        settings.preset,
        "-crf",
        f"{settings.crf:g}",
        "-threads",
        "1",
        "-an",
        "-pix_fmt",
        "yuv420p",
        destination,
    ]


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and its reaped children so far."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _output_bytes(folder: str) -> int:
    """The bytes of the mp4 files under ``folder``."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith(".mp4")
    )


def _frames_in(path: str) -> int:
    """The frame count an mp4's header gives."""
    with av.open(path) as container:
        return container.streams.video[0].frames


def time_ffmpeg(
    ffmpeg: str, videos_dir: str, output_dir: str, settings: EncodeSettings, processes: int = 1
) -> Timing:
    """Run :func:`ffmpeg_command` on each video, into ``output_dir``: one after the other, or
    ``processes`` at a time (each taking the next video as it finishes one)."""
    names = find_videos(videos_dir)
    commands = []
    for name in names:
        destination = os.path.join(output_dir, output_name(name))
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        source = os.path.join(videos_dir, name)
        size = video_size(source, settings)
        commands.append(ffmpeg_command(ffmpeg, source, destination, size, settings))
    cpu, start = _cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(processes) as runners:
        list(runners.map(partial(subprocess.run, check=True), commands))
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    frames = sum(_frames_in(os.path.join(output_dir, output_name(name))) for name in names)
    return Timing(seconds, cpu, frames, _output_bytes(output_dir))


def time_ours(videos_dir: str, output_dir: str, settings: EncodeSettings, jobs: int) -> Timing:
    """Run the resize verb's :func:`resize_tree` with ``jobs`` jobs, into ``output_dir``."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    summary = resize_tree(videos_dir, output_dir, settings, jobs, progress=False)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    if summary.failed or summary.interrupted or summary.disk_full:
        raise RuntimeError(f"the resize benchmark's run did not complete: {summary.report()}")
    return Timing(seconds, cpu, summary.frames, _output_bytes(output_dir))


def video_size(path: str, settings: EncodeSettings) -> tuple[int, int]:
    """The output size of the video ``path`` under ``settings``."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        return output_size(stream.width, stream.height, settings)


def x264_identity(path: str) -> tuple[str, str]:
    """(x264's core version, the options it wrote) from the first stream of ``path``."""
    with open(path, "rb") as stream:
        match = _X264_OPTIONS.search(stream.read(1 << 16))
    if match is None:
        return "", ""
    return match.group(1).decode(), match.group(2).decode(errors="replace")


def _one_pass(
    method: str, ffmpeg: str, videos_dir: str, output_dir: str, settings: EncodeSettings
) -> Timing:
    """One pass of ``method`` (one of :data:`METHODS`) over the videos."""
    if method.startswith("ffmpeg"):
        return time_ffmpeg(ffmpeg, videos_dir, output_dir, settings, METHOD_PROCESSES[method])
    return time_ours(videos_dir, output_dir, settings, METHOD_PROCESSES[method])


def _read_all(folder: str, names: list[str]) -> None:
    """Read every video once, so that the first timed pass finds them in the page cache too."""
    for name in names:
        with open(os.path.join(folder, name), "rb") as stream:
            while stream.read(1 << 20):
                pass


def ffmpeg_version(ffmpeg: str) -> str:
    """The first line of ``ffmpeg -version``."""
    run = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True)
    return run.stdout.splitlines()[0]


def measure_resize(
    ffmpeg: str, videos_dir: str, work_dir: str, settings: EncodeSettings, rounds: int
) -> dict:
    """Time the :data:`METHODS` over ``videos_dir`` in ``rounds`` interleaved rounds
    (outputs under ``work_dir``, removed after each pass); the report: machine and load
    average before and after, each method's frames/s (over every round, and per round), CPU
    time, output bytes and x264 identity, and the ratios."""
    names = find_videos(videos_dir)
    if not names:
        raise PreparationError(f"{videos_dir} holds no video")
    first = output_name(names[0])
    _read_all(videos_dir, names)
    load_before = load_average()
    passes: dict[str, list[Timing]] = {method: [] for method in METHODS}
    identities: dict[str, tuple[str, str]] = {}
    for number in range(rounds):
        for method in METHODS if number % 2 == 0 else METHODS[::-1]:
            output_dir = os.path.join(work_dir, f"round{number}_{method}")
            shutil.rmtree(output_dir, ignore_errors=True)
            passes[method].append(_one_pass(method, ffmpeg, videos_dir, output_dir, settings))
            identities.setdefault(method, x264_identity(os.path.join(output_dir, first)))
            shutil.rmtree(output_dir)
            logger.info("round %d %s: %.1f s", number, method, passes[method][-1].seconds)
    methods = {method: _method_figures(passes[method], identities[method]) for method in METHODS}
    sizes = {video_size(os.path.join(videos_dir, name), settings) for name in names}
    return {
        "machine": machine_description("cpu"),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "ffmpeg": ffmpeg_version(ffmpeg),
        "pyav": f"PyAV {av.__version__}, FFmpeg {av.ffmpeg_version_info}",
        "videos": len(names),
        "output_sizes": sorted(f"{width}x{height}" for width, height in sizes),
        "settings": {"crf": settings.crf, "preset": settings.preset},
        "rounds": rounds,
        "methods": methods,
        "x264_options_match": len({identity[1] for identity in identities.values()}) == 1,
        "ratios": {
            "ours_1_job_over_ffmpeg": _ratio(methods, "ours_1_job", "ffmpeg", "frames_per_s"),
            "ours_2_jobs_over_1_job": _ratio(methods, "ours_2_jobs", "ours_1_job", "frames_per_s"),
            "ffmpeg_2_over_1_process": _ratio(
                methods, "ffmpeg_2_processes", "ffmpeg", "frames_per_s"
            ),
            "output_bytes_ours_over_ffmpeg": _ratio(
                methods, "ours_1_job", "ffmpeg", "output_bytes"
            ),
        },
    }


def _method_figures(timings: list[Timing], identity: tuple[str, str]) -> dict:
    """One method's figures over its passes."""
    seconds = sum(timing.seconds for timing in timings)
    cpu_seconds = sum(timing.cpu_seconds for timing in timings)
    return {
        "frames_per_s": sum(timing.frames for timing in timings) / seconds,
        "frames_per_s_per_round": [timing.frames / timing.seconds for timing in timings],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "cores_used": cpu_seconds / seconds,
        "frames": timings[0].frames,
        "output_bytes": timings[0].output_bytes,
        "x264_core": identity[0],
    }


def _ratio(methods: dict, numerator: str, denominator: str, key: str) -> float:
    return methods[numerator][key] / methods[denominator][key]


def resize_table(report: dict) -> str:
    """The methods as a markdown table."""
    lines = [
        "| way | frames/s | per round | CPU s / wall s | frames | output MiB | x264 core |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for method, row in report["methods"].items():
        rounds = ", ".join(f"{rate:.1f}" for rate in row["frames_per_s_per_round"])
        lines.append(
            f"| {METHOD_NAMES[method]} | {row['frames_per_s']:.1f} | {rounds} "
            f"| {row['cores_used']:.2f} | {row['frames']} | {row['output_bytes'] / 2**20:.2f} "
            f"| {row['x264_core']} |"
        )
    return "\n".join(lines)


def summary_lines(report: dict) -> list[str]:
    """The ratios against their targets, and whether both sides encoded alike."""
    ratios = report["ratios"]
    same = "the same" if report["x264_options_match"] else "DIFFERENT"
    return [
        f"ours (1 job) / ffmpeg CLI: {ratios['ours_1_job_over_ffmpeg']:.2f}x frames/s "
        "(target >= 0.9x)",
        f"2 jobs / 1 job: {ratios['ours_2_jobs_over_1_job']:.2f}x frames/s (target >= 1.8x "
        f"on 2 cores); ffmpeg CLI, 2 files at a time / 1: "
        f"{ratios['ffmpeg_2_over_1_process']:.2f}x (what this machine gives two processes)",
        f"output bytes, ours / ffmpeg CLI: {ratios['output_bytes_ours_over_ffmpeg']:.3f}; "
        f"x264 options written in the streams: {same}",
    ]
