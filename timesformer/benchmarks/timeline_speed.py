"""The timeline's memory over video length, and its windows/s.

Each run is ``timesformer timeline`` on one synthetic low-resolution video, in a fresh
subprocess, so that its peak resident memory is that run's alone: :func:`run_timeline` reads
the child's own resource usage as it is reaped (``os.wait4``), not the maximum over every child
this process waited for. The model is a config's with random weights (:func:`random_checkpoint`,
written once): the figures are about memory and speed, not accuracy. The engine's outputs go to
a temporary folder, and no annotated copy is written. Windows/s is the windows scored over the
child's whole wall time, start (torch, the model) included.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from dataclasses import asdict, dataclass

from timesformer.benchmarks.machine import cpu_cores, load_average
from timesformer.config.packaged import packaged_file
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.utils.file_io import atomic_write
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

DEMO_CONFIG = "Demo/TimeSformer_divST_tiny.yaml"
VIT_B_CONFIG = "Kinetics/TimeSformer_divST_8x32_224.yaml"
"""The packaged configs of the two models."""
VIT_B_OVERRIDES = ("TIMESFORMER.PRETRAINED_MODEL", "none")
"""ViT-B with random weights: no ImageNet download."""
RATIO_TARGET = 1.10
"""The longest video's peak RSS over the shortest's, at most (flat memory)."""
FPS = 30


@dataclass
class TimelineRun:
    """One timeline run: the model, the video's length, the windows it scored, the child's wall
    seconds and windows per second, and its peak resident memory."""

    model: str
    video_seconds: float
    windows: int
    wall_seconds: float
    windows_per_second: float
    peak_rss_mib: float


def benchmark_video(folder: str, seconds: float, size: int) -> str:
    """A ``size`` x ``size`` 30 fps H.264 (x264 ultrafast) video of a moving texture,
    ``seconds`` long, in ``folder`` (written once, reused; frames streamed to the encoder)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"texture_{seconds:g}s_{size}x{size}_{FPS}fps.mp4")
    if not os.path.exists(path):
        logger.info("Writing %s (%g s, %dx%d, %d fps)", path, seconds, size, size, FPS)
        started = time.perf_counter()
        frames = moving_texture_video(round(seconds * FPS), size, size)
        partial = write_video(path + ".partial.mp4", frames, FPS, options={"preset": "ultrafast"})
        os.replace(partial, path)
        logger.info("Wrote %s in %.1f s", path, time.perf_counter() - started)
    return path


def random_checkpoint(folder: str, name: str, cfg_file: str, overrides: tuple[str, ...]) -> str:
    """``folder/name.pyth``: the model of ``cfg_file`` (with ``overrides``) with random weights
    (seed 0), written once and reused."""
    path = os.path.join(folder, f"{name}.pyth")
    if os.path.exists(path):
        return path
    import torch  # only here: the benchmark's own process needs torch for this alone

    from timesformer.models.build import build_bare_model
    from timesformer.utils.parser import load_config

    cfg = load_config(Namespace(cfg_file=cfg_file, opts=list(overrides)), check_devices=False)
    torch.manual_seed(0)
    os.makedirs(folder, exist_ok=True)
    with atomic_write(path) as stream:
        torch.save({"model_state": build_bare_model(cfg).state_dict()}, stream)
    return path


def run_timeline(
    model: str, cfg_file: str, checkpoint: str, video: str, seconds: float, overrides=()
) -> TimelineRun:
    """``timesformer timeline`` on ``video`` (``seconds`` long) in a fresh subprocess, stride
    the default half window, outputs in a temporary folder; its figures.

    Raises:
        RuntimeError: the run failed (with the end of what it wrote to stderr).
    """
    with tempfile.TemporaryDirectory(prefix="timeline_benchmark_") as folder:
        output_dir = os.path.join(folder, "out")
        command = [sys.executable, "-m", "timesformer", "timeline", "--cfg", cfg_file]
        command += ["--checkpoint", checkpoint, "--output-dir", output_dir, video, *overrides]
        with open(os.path.join(folder, "stderr"), "w+") as stderr:
            started = time.perf_counter()
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                stderr.seek(0)
                tail = stderr.read()[-2000:]
                raise RuntimeError(f"timeline on {video} exited {child.returncode}:\n{tail}")
        with open(os.path.join(output_dir, "timeline.json")) as stream:
            windows = len(json.load(stream)["windows"])
    return TimelineRun(
        model=model,
        video_seconds=seconds,
        windows=windows,
        wall_seconds=round(wall, 2),
        windows_per_second=round(windows / wall, 2),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1),  # kilobytes on Linux
    )


def measure_timeline(
    cache_dir: str,
    demo_seconds: list[float],
    vit_b_seconds: list[float],
    size: int = 64,
    vit_b_size: int = 64,
) -> dict:
    """The demo model's runs on videos of each of ``demo_seconds`` and ViT-B's on each of
    ``vit_b_seconds`` (none: no ViT-B), one at a time; the report (JSON-ready): the machine,
    the load averages before and after, the runs, and the longest demo video's peak RSS over
    the shortest's."""
    before = load_average()
    machine = cpu_cores()
    videos = os.path.join(cache_dir, "videos")
    checkpoints = os.path.join(cache_dir, "checkpoints")
    plan: list[tuple[str, str, tuple[str, ...], float, int]]
    plan = [("demo", DEMO_CONFIG, (), seconds, size) for seconds in demo_seconds]
    plan += [("ViT-B", VIT_B_CONFIG, VIT_B_OVERRIDES, s, vit_b_size) for s in vit_b_seconds]
    runs = []
    for model, name, overrides, seconds, video_size in plan:
        cfg_file = packaged_file(name)
        checkpoint = random_checkpoint(checkpoints, model, cfg_file, overrides)
        video = benchmark_video(videos, seconds, video_size)
        logger.info("Timeline of %s by %s", video, model)
        run = run_timeline(model, cfg_file, checkpoint, video, seconds, overrides)
        runs.append(asdict(run))
    demo = sorted((run for run in runs if run["model"] == "demo"), key=lambda r: r["video_seconds"])
    ratio = demo[-1]["peak_rss_mib"] / demo[0]["peak_rss_mib"] if len(demo) > 1 else None
    return {
        "machine": machine,
        "load_average_before": before,
        "load_average_after": load_average(),
        "video_size": f"{size}x{size} at {FPS} fps (ViT-B: {vit_b_size}x{vit_b_size})",
        "runs": runs,
        "peak_rss_ratio": round(ratio, 3) if ratio is not None else None,
        "ratio_target": RATIO_TARGET,
    }


def timeline_table(report: dict) -> str:
    """The runs as a markdown table."""
    lines = [
        "| model | video | windows | wall s | windows/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        lines.append(
            f"| {run['model']} | {_length(run['video_seconds'])} | {run['windows']} | "
            f"{run['wall_seconds']:.1f} | {run['windows_per_second']:.2f} | "
            f"{run['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def ratio_line(report: dict) -> str:
    """The longest demo video's peak RSS over the shortest's, against the target."""
    ratio = report["peak_rss_ratio"]
    if ratio is None:
        return "peak RSS ratio: needs two demo lengths"
    verdict = "met" if ratio <= report["ratio_target"] else "NOT met"
    return f"peak RSS, longest / shortest demo video: {ratio:.3f} (target <= 1.10: {verdict})"


def _length(seconds: float) -> str:
    """``"2 min"``, ``"120 min"``, ``"3 s"``."""
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
