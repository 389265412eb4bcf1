"""``prepare_dataset.py resize``: every video of a tree re-encoded to a short side.

    python tools/prepare_dataset.py resize INPUT_DIR OUTPUT_DIR [--short-side 320]
        [--only-larger] [--jobs N] [--crf 23] [--preset medium] [--random-access]
        [--gop N] [--b-frames N] [--[no-]reference-b-frames] [--[no-]fast-decode]
        [--report FILE]

What it does: :mod:`timesformer.datasets.preparation.resize`; this module is its command line.
"""

import argparse
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.random_access import (
    MAX_B_FRAMES,
    RANDOM_ACCESS_B_FRAMES,
    RANDOM_ACCESS_GOP,
)
from timesformer.datasets.preparation.x264_presets import X264_PRESETS
from timesformer.utils.file_io import folder_problem

if TYPE_CHECKING:
    from timesformer.datasets.preparation.reencode import EncodeSettings

REPORT_NAME = "resize_report.json"
"""The report's name in OUTPUT_DIR, unless ``--report`` gives another path."""

DESCRIPTION = f"""\
Re-encode every video under INPUT_DIR (any depth; mp4 avi mkv webm mov m4v mpg mpeg flv wmv
3gp, any case; hidden files left out) to a short side of --short-side pixels, into the same
relative path under OUTPUT_DIR with the extension .mp4: H.264 (libx264, yuv420p, --crf,
--preset), the aspect ratio kept (the long side rounded to the nearest even number), every
frame's timestamp kept (so the frame rate, variable or not, is the source's), audio dropped.
Inputs are only read.

Random access: --random-access encodes for training clips that take a few frames of a long
span (8 frames of 256): a key frame every {RANDOM_ACCESS_GOP} frames and
{RANDOM_ACCESS_B_FRAMES} B-frames that no frame references, so that the loader seeks to each
frame's key frame and skips most frames between (about a quarter of the frames per clip decoded
of those from x264's defaults, a key frame every 250 frames), and x264's fast-decode tuning,
which halves each frame's decoding: about 4x the clips per core, for about 1.5x the bytes.
--gop, --b-frames, --[no-]reference-b-frames and --[no-]fast-decode set each alone (and
override --random-access's)."""

EPILOG = f"""\
Parallel: --jobs processes, each video decoded, scaled and encoded with one thread, so one job
takes one core. A progress bar (videos, frames/s, time left) shows on a terminal; a summary
ends the run.

Resumable: each output is written as NAME.mp4.tmp.PID and renamed when complete. Run the same
command again after Ctrl-C, kill -9 or a full disk: the videos whose output exists are skipped
(whatever settings made them: give another OUTPUT_DIR to resize again), the temporary files a
stopped run left are removed and the rest is done.

A video that cannot be read (not a video, truncated, undecodable), or whose name a split file
cannot hold (not UTF-8, control characters), is listed with its reason and the others go on.
The report (default OUTPUT_DIR/{REPORT_NAME}, written atomically): the settings, the counts
and every failed input with its reason, and the outputs' bytes per second of video and
their size over the inputs' (what the encoding costs in disk space; also in the summary).

Exit status: 0 every video done, 1 some failed (or the disk is full), 130 interrupted (Ctrl-C),
2 a mistake in the command line (OUTPUT_DIR inside INPUT_DIR or the reverse, INPUT_DIR
missing or without videos...), said in one line."""


def _even_size(text: str) -> int:
    """--short-side: a positive even number of pixels (H.264 in yuv420p needs even sides)."""
    value = _positive(text)
    if value % 2:
        raise argparse.ArgumentTypeError(f"{value} is odd: yuv420p needs even sides")
    return value


def _positive(text: str) -> int:
    """A positive whole number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _crf(text: str) -> float:
    """--crf: x264's constant rate factor, 0 to 51."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 51:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 51")
    return value


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a Slurm job's, a container's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the ``resize`` verb's parser; its defaults ``run`` and ``parser``."""
    parser = subparsers.add_parser(
        "resize",
        help="re-encode every video of a tree to a short side (parallel, resumable)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input_dir", metavar="INPUT_DIR", help="the videos (only read)")
    parser.add_argument(
        "output_dir", metavar="OUTPUT_DIR", help="where the resized tree goes (created)"
    )
    add_encoding_arguments(parser)
    add_random_access_arguments(parser)
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=_positive,
        default=usable_cores(),
        help="videos re-encoded at once, one process and one core each "
        "(default: the usable cores, %(default)s here)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help=f"where the JSON report goes (default: OUTPUT_DIR/{REPORT_NAME})",
    )
    parser.set_defaults(run=run, parser=parser)


def add_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of :class:`EncodeSettings` (also the resize benchmark's):
    --short-side, --only-larger, --crf, --preset."""
    parser.add_argument(
        "--short-side",
        type=_even_size,
        metavar="PIXELS",
        default=320,
        help="the short side of every output in pixels, even (default: 320)",
    )
    parser.add_argument(
        "--only-larger",
        action="store_true",
        help="never upscale: a video whose short side is at most --short-side is re-encoded "
        "at its own size (sides rounded down to even)",
    )
    parser.add_argument(
        "--crf",
        type=_crf,
        default=23.0,
        help="x264 constant rate factor, 0-51: lower is better and larger (default: 23)",
    )
    parser.add_argument(
        "--preset",
        choices=X264_PRESETS,
        default="medium",
        metavar="PRESET",
        help="x264 preset, slower is smaller at the same quality: "
        f"{', '.join(X264_PRESETS)} (default: medium, x264's)",
    )


def _b_frames(text: str) -> int:
    """--b-frames: 0 to 16 (x264's most)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_B_FRAMES:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and {MAX_B_FRAMES}")
    return value


def add_random_access_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the key-frame, B-frame and tuning options of :class:`EncodeSettings`:
    --random-access, --gop, --b-frames, --[no-]reference-b-frames, --[no-]fast-decode
    (:func:`encode_settings` reads them)."""
    parser.add_argument(
        "--random-access",
        action="store_true",
        help=f"encode for clips of a few frames of a long span: --gop {RANDOM_ACCESS_GOP} "
        f"--b-frames {RANDOM_ACCESS_B_FRAMES} --no-reference-b-frames --fast-decode (about 4x "
        "the training clips per core, about 1.5x the bytes); the options below override it",
    )
    parser.add_argument(
        "--gop",
        type=_positive,
        metavar="N",
        help="frames from one key frame to the next at most (x264 keyint; default: x264's, 250)",
    )
    parser.add_argument(
        "--b-frames",
        type=_b_frames,
        metavar="N",
        help=f"consecutive B-frames at most, 0-{MAX_B_FRAMES} (default: the preset's, 3 for "
        "medium)",
    )
    parser.add_argument(
        "--reference-b-frames",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let other frames reference B-frames (x264's B-pyramid; the default); "
        "--no-reference-b-frames: none does, so the decoder skips every B-frame a clip does "
        "not use",
    )
    parser.add_argument(
        "--fast-decode",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="x264's tune=fastdecode: no CABAC, deblocking or weighted prediction, so each "
        "frame decodes in about half the time, for about 1.1x the bytes and a little quality "
        "(default: off, x264's own encoding)",
    )


def encode_settings(args: argparse.Namespace) -> "EncodeSettings":
    """The :class:`EncodeSettings` of the parsed options: those of :func:`add_encoding_arguments`,
    then --random-access's preset, then --gop, --b-frames, --[no-]reference-b-frames,
    --[no-]fast-decode where given."""
    from timesformer.datasets.preparation.reencode import EncodeSettings, random_access_settings

    settings = EncodeSettings(args.short_side, args.crf, args.preset, args.only_larger)
    if args.random_access:
        settings = random_access_settings(settings)
    given = {
        "gop": args.gop,
        "b_frames": args.b_frames,
        "reference_b_frames": args.reference_b_frames,
        "fast_decode": args.fast_decode,
    }
    return replace(settings, **{name: value for name, value in given.items() if value is not None})


def run(args: argparse.Namespace) -> int:
    """Resize the tree, write the report, print the summary; the exit status."""
    # the encoder (and torch, with the decoder) load here, after the arguments are checked
    from timesformer.datasets.preparation.resize import check_folders, resize_tree, write_report
    from timesformer.datasets.video_container import error_reason

    check_folders(args.input_dir, args.output_dir)
    report = args.report or os.path.join(args.output_dir, REPORT_NAME)
    _check_report(report, args.input_dir)
    settings = encode_settings(args)
    summary = resize_tree(args.input_dir, args.output_dir, settings, args.jobs)
    unwritten = ""
    try:
        write_report(summary, report)
    except OSError as error:  # a full disk (DiskFullError) or a folder gone since the start
        unwritten = f"report {report} not written: {error_reason(error)}"
    for line in summary.lines():
        print(line)
    if not unwritten:
        print(f"Report (every failed input with its reason): {report}")
    for message in (summary.disk_full, unwritten):
        if message:  # the one line of a stopped run (exit status 1, not 2: no usage mistake)
            print(f"{args.parser.prog}: error: {message}", file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.failed or summary.disk_full or unwritten else 0


def _check_report(report: str, input_dir: str) -> None:
    """Raise :class:`PreparationError` when the report would go inside INPUT_DIR or into a
    folder that cannot be written."""
    from timesformer.datasets.preparation.resize import inside

    if inside(report, input_dir):
        raise PreparationError(f"--report {report} is inside INPUT_DIR {input_dir}")
    problem = folder_problem(os.path.dirname(os.path.abspath(report)))
    if problem is not None:
        raise PreparationError(f"--report {report}: {problem[0]} {problem[1]}")
