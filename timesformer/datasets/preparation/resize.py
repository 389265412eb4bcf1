"""Resizing a tree of videos: every video under INPUT_DIR re-encoded to a short side
(:mod:`~timesformer.datasets.preparation.reencode`) into the same relative path under
OUTPUT_DIR (extension ``.mp4``), in parallel, resumable, with a report of what failed.

Resumable: each output is written under a temporary name and renamed when complete, so a video
whose output exists is done; a rerun (after Ctrl-C, ``kill -9``, a full disk) skips those,
removes the temporary files the stopped run left and redoes the rest. An output made with other
settings is skipped too: give another OUTPUT_DIR to resize again. A video that cannot be read,
or whose name a split file cannot hold (not UTF-8, control characters), is listed with the
reason and the others go on. Inputs are only read.
"""

import json
import os
import time
from dataclasses import asdict, dataclass, field

import av
from tqdm import tqdm

from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.parallel_jobs import worker_pool
from timesformer.datasets.preparation.reencode import EncodeError, EncodeSettings, reencode_video
from timesformer.datasets.preparation.video_names import (
    VIDEO_EXTENSIONS,
    is_video,
    path_problem,
    shown,
)
from timesformer.datasets.video_container import VideoReadError
from timesformer.utils.file_io import (
    DiskFullError,
    atomic_write,
    folder_problem,
    remove_stale_partial_files,
)


@dataclass(frozen=True)
class Task:
    """One video to re-encode: its path relative to INPUT_DIR, its path and its output's."""

    name: str
    source: str
    destination: str


@dataclass(frozen=True)
class Outcome:
    """What became of a :class:`Task`: the frames written, the input's and the output's sizes
    and the output's length, or why none were.

    ``disk_full``: the message of the :class:`DiskFullError` that stopped it (the run stops;
    the video counts as not done, not as failed).
    """

    name: str
    frames: int = 0
    reason: str = ""
    disk_full: str = ""
    input_bytes: int = 0
    output_bytes: int = 0
    video_seconds: float = 0.0


@dataclass
class ResizeSummary:
    """A run's counts, its failures ``(name, reason)`` and how it ended; the sizes and the
    length (of video) of the videos it re-encoded, so that a user sees what the settings cost
    in disk space (``--random-access``: more bytes per second of video)."""

    input_dir: str
    output_dir: str
    settings: EncodeSettings
    found: int = 0
    done: int = 0
    skipped: int = 0
    frames: int = 0
    seconds: float = 0.0
    input_bytes: int = 0
    output_bytes: int = 0
    video_seconds: float = 0.0
    stale_removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    disk_full: str = ""

    @property
    def frames_per_s(self) -> float:
        """Frames written per second of the run (0 before it ran)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def output_bytes_per_video_second(self) -> float:
        """Output bytes per second of video re-encoded (0 before any was)."""
        return self.output_bytes / self.video_seconds if self.video_seconds > 0 else 0.0

    @property
    def output_over_input(self) -> float:
        """The outputs' size over their inputs' (0 before any was re-encoded)."""
        return self.output_bytes / self.input_bytes if self.input_bytes > 0 else 0.0

    def report(self) -> dict:
        """The JSON report: settings, counts and every failed input with its reason."""
        return {
            "input_dir": self.input_dir,
            "output_dir": self.output_dir,
            "settings": asdict(self.settings),
            "counts": {
                "found": self.found,
                "done": self.done,
                "skipped_already_done": self.skipped,
                "failed": len(self.failed),
                "not_done": self.found - self.done - self.skipped - len(self.failed),
            },
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "frames_per_s": round(self.frames_per_s, 1),
            "input_bytes": self.input_bytes,
            "output_bytes": self.output_bytes,
            "video_seconds": round(self.video_seconds, 3),
            "output_bytes_per_video_second": round(self.output_bytes_per_video_second),
            "output_over_input": round(self.output_over_input, 4),
            "interrupted": self.interrupted,
            "disk_full": self.disk_full or None,
            "failed": [{"input": name, "reason": reason} for name, reason in self.failed],
        }

    def lines(self) -> list[str]:
        """The summary printed at the end."""
        counts = self.report()["counts"]
        lines = [
            f"{self.done} videos done, {self.skipped} skipped as already done, "
            f"{len(self.failed)} failed, {counts['not_done']} not done, of {self.found} found; "
            f"{self.frames} frames in {self.seconds:.1f} s ({self.frames_per_s:.1f} frames/s)."
        ]
        if self.output_bytes:
            lines.append(
                f"Output {self.output_bytes / 2**20:.1f} MiB for {self.video_seconds:.1f} s of "
                f"video ({self.output_bytes_per_video_second / 1024:.1f} KiB per second of "
                f"video), {self.output_over_input:.2f}x its inputs' size."
            )
        if self.stale_removed:
            lines.append(f"Removed {self.stale_removed} temporary files an earlier run left.")
        if self.interrupted:
            lines.append("Interrupted: rerun the same command to resize the videos not done.")
        return lines


def check_folders(input_dir: str, output_dir: str) -> None:
    """Raise :class:`PreparationError` unless INPUT_DIR is a folder, OUTPUT_DIR can be written
    and neither folder is inside the other (nor the same)."""
    if not os.path.isdir(input_dir):
        raise PreparationError(f"INPUT_DIR {input_dir}: not a folder")
    problem = folder_problem(output_dir)
    if problem is not None:
        raise PreparationError(f"OUTPUT_DIR {output_dir}: {problem[0]} {problem[1]}")
    source, target = os.path.realpath(input_dir), os.path.realpath(output_dir)
    if inside(target, source):
        where = "is the same folder as" if source == target else "is inside"
        raise PreparationError(
            f"OUTPUT_DIR {output_dir} {where} INPUT_DIR {input_dir}: give a folder outside it"
        )
    if inside(source, target):
        raise PreparationError(
            f"INPUT_DIR {input_dir} is inside OUTPUT_DIR {output_dir}: give a folder outside it"
        )


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it, symlinks resolved."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def find_videos(input_dir: str) -> list[str]:
    """The videos under ``input_dir`` (:func:`~timesformer.datasets.preparation.video_names.
    is_video`), as sorted paths relative to it; symlinked folders are not followed."""
    names = []
    for root, folders, files in os.walk(input_dir):
        folders.sort()
        relative = os.path.relpath(root, input_dir)
        for name in sorted(files):
            if is_video(name):
                names.append(os.path.normpath(os.path.join(relative, name)))
    return names


def output_name(name: str) -> str:
    """The output's path relative to OUTPUT_DIR of the input ``name``: its extension ``.mp4``."""
    return os.path.splitext(name)[0] + ".mp4"


def plan_tasks(input_dir: str, output_dir: str, summary: ResizeSummary) -> list[Task]:
    """The videos to re-encode: those found less the names a split file cannot hold (not UTF-8,
    control characters, whitespace at an end: failed, as the list verb rejects them), the
    inputs that would share an output (``a.avi`` and ``a.mkv``: both failed) and those whose
    output exists (skipped); records the found, skipped and failed in ``summary``."""
    names = find_videos(input_dir)
    summary.found = len(names)
    sharing: dict[str, list[str]] = {}
    for name in names:
        sharing.setdefault(output_name(name), []).append(name)
    tasks = []
    for name in names:
        problem = path_problem(name) or ""
        others = sharing[output_name(name)]
        if not problem and len(others) > 1:
            together = " and ".join(others)
            problem = f"{together} would have one output, {output_name(name)}: rename all but one"
        if problem:
            summary.failed.append((shown(name), problem))
            continue
        destination = os.path.join(output_dir, output_name(name))
        if os.path.exists(destination):
            summary.skipped += 1
        else:
            tasks.append(Task(name, os.path.join(input_dir, name), destination))
    return tasks


def remove_stale_outputs(folders: set[str]) -> int:
    """Remove the temporary files that stopped runs left in ``folders``; how many."""
    return sum(len(remove_stale_partial_files(folder)) for folder in sorted(folders))


def run_task(task: Task, settings: EncodeSettings) -> Outcome:
    """Re-encode one video (in a worker process); an input or output failure is an outcome."""
    try:
        frames = reencode_video(task.source, task.destination, settings)
    except VideoReadError as error:
        return Outcome(task.name, reason=error.reason)
    except EncodeError as error:
        return Outcome(task.name, reason=str(error))
    except DiskFullError as error:
        return Outcome(task.name, reason=str(error), disk_full=str(error))
    return Outcome(
        task.name,
        frames=frames,
        input_bytes=os.path.getsize(task.source),
        output_bytes=os.path.getsize(task.destination),
        video_seconds=video_seconds(task.destination),
    )


def video_seconds(path: str) -> float:
    """The length in seconds of the first video stream of the mp4 ``path`` (from its header)."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        if stream.duration is None or stream.time_base is None:
            return 0.0
        return float(stream.duration * stream.time_base)


def _run_packed(job: tuple[Task, EncodeSettings]) -> Outcome:
    """:func:`run_task` of one ``(task, settings)`` pair (what the worker pool maps)."""
    return run_task(*job)


def resize_tree(
    input_dir: str, output_dir: str, settings: EncodeSettings, jobs: int, progress: bool = True
) -> ResizeSummary:
    """Re-encode every video under ``input_dir`` not yet done into ``output_dir``, ``jobs``
    at a time, with a progress bar on stderr (``progress``; shown on a terminal only).

    Ctrl-C stops the workers and returns the summary so far (``interrupted``); a full disk stops
    the run the same way (``disk_full``: its message). Either way no temporary file is left.

    Raises:
        PreparationError: a folder is missing, not writable or inside the other
            (:func:`check_folders`), or INPUT_DIR holds no video.
    """
    check_folders(input_dir, output_dir)
    summary = ResizeSummary(input_dir, output_dir, settings)
    tasks = plan_tasks(input_dir, output_dir, summary)
    if not summary.found:
        extensions = " ".join(sorted(VIDEO_EXTENSIONS))
        raise PreparationError(f"INPUT_DIR {input_dir} holds no video ({extensions})")
    folders = {os.path.dirname(task.destination) for task in tasks}
    summary.stale_removed = remove_stale_outputs(folders)
    start = time.perf_counter()
    bar = tqdm(total=len(tasks), unit="video", desc="resizing", disable=None if progress else True)
    for name, reason in summary.failed:
        bar.write(f"FAILED {name}: {reason}")
    try:
        if tasks:
            _run_tasks(tasks, summary, min(jobs, len(tasks)), bar, start)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - start
        remove_stale_outputs(folders)  # those of the workers stopped mid-video
    if summary.interrupted or summary.disk_full:  # also those finished as the run stopped
        summary.done = sum(os.path.exists(task.destination) for task in tasks)
    summary.failed.sort()
    return summary


def _run_tasks(
    tasks: list[Task], summary: ResizeSummary, jobs: int, bar: tqdm, start: float
) -> None:
    """Run ``tasks`` in ``jobs`` worker processes, recording each outcome as it comes; stop
    at the first full disk."""
    settings = summary.settings
    with worker_pool(jobs) as pool:
        for outcome in pool.imap_unordered(_run_packed, [(task, settings) for task in tasks]):
            if outcome.disk_full:
                summary.disk_full = outcome.disk_full
                return
            _record(summary, outcome, bar, time.perf_counter() - start)


def _record(summary: ResizeSummary, outcome: Outcome, bar: tqdm, seconds: float) -> None:
    """Count ``outcome`` in ``summary`` and on the progress bar (frames/s so far)."""
    if outcome.reason:
        summary.failed.append((outcome.name, outcome.reason))
        bar.write(f"FAILED {outcome.name}: {outcome.reason}")
    else:
        summary.done += 1
        summary.frames += outcome.frames
        summary.input_bytes += outcome.input_bytes
        summary.output_bytes += outcome.output_bytes
        summary.video_seconds += outcome.video_seconds
    bar.set_postfix_str(f"{summary.frames / max(seconds, 1e-9):.0f} frames/s", refresh=False)
    bar.update()


def write_report(summary: ResizeSummary, path: str) -> None:
    """Write :meth:`ResizeSummary.report` to ``path`` as JSON, atomically."""
    with atomic_write(path, binary=False) as stream:
        json.dump(summary.report(), stream, indent=2)
        stream.write("\n")
