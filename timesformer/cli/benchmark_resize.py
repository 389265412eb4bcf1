"""Resize benchmark: ``prepare_dataset.py resize`` with one job and with two, against the ffmpeg
command line doing the same re-encode one and two files at a time.

    python tools/benchmark_resize.py [--videos DIR | --cache-dir DIR --num-videos 12
        --seconds 10] [--rounds 3] [--short-side 320] [--crf 23] [--preset medium]
        [--work-dir DIR] [--json FILE]

Without --videos, --num-videos synthetic 640x360 30 fps H.264 videos of a moving texture are
written once into --cache-dir and reused. The four ways (ffmpeg one and two files at a time,
ours with one and two jobs) run in turn in each of --rounds rounds, as
:mod:`timesformer.benchmarks.resize_speed` says; their outputs go to --work-dir (a folder of
--cache-dir by default) and are removed after each pass. Prints the machine and its load
average, a table (frames/s, CPU time over wall time, output sizes) and the ratios against their
targets (ours >= 0.9x ffmpeg with one job; 2 jobs >= 1.8x 1 job on 2 cores, beside what ffmpeg
gets from two processes).

Exit status: 0 measured, 2 ffmpeg not found or a mistake in the command line.
"""

import argparse
import json
import os
import shutil

from timesformer.cli.prepare_resize import add_encoding_arguments
from timesformer.datasets.preparation.errors import PreparationError
from timesformer.utils.logging import setup_logging
from timesformer.utils.user_errors import errors_end_in_one_line


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """(the parser, the parsed command line)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--videos", metavar="DIR", help="benchmark these videos instead")
    parser.add_argument(
        "--cache-dir",
        default=os.path.expanduser("~/.cache/timesformer/resize_benchmark"),
        help="where the synthetic videos are written once and reused (default: %(default)s)",
    )
    parser.add_argument("--num-videos", type=int, default=12, help="synthetic videos (12)")
    parser.add_argument("--seconds", type=float, default=10.0, help="their length (10 s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--work-dir", help="where the outputs go (default: CACHE_DIR/work)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    add_encoding_arguments(parser)
    return parser, parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    setup_logging(is_master=True)
    parser, args = parse_args(argv)
    with errors_end_in_one_line(parser, exit_status=2):
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise PreparationError("ffmpeg not found on PATH: the benchmark compares with it")
        if min(args.num_videos, args.rounds) < 1 or args.seconds <= 0:
            raise PreparationError("--num-videos, --rounds and --seconds must be positive")
        return _run(ffmpeg, args)


def _run(ffmpeg: str, args: argparse.Namespace) -> int:
    """Write the videos if needed, time the four ways, print (and write) the report; 0."""
    # the encoder (and torch, with the decoder) load here, after the arguments are checked
    from timesformer.benchmarks.resize_speed import (
        measure_resize,
        resize_table,
        summary_lines,
        write_benchmark_videos,
    )
    from timesformer.datasets.preparation.reencode import EncodeSettings

    videos = args.videos or write_benchmark_videos(
        os.path.join(args.cache_dir, "videos"), args.num_videos, args.seconds
    )
    settings = EncodeSettings(args.short_side, args.crf, args.preset, args.only_larger)
    work_dir = args.work_dir or os.path.join(args.cache_dir, "work")
    report = measure_resize(ffmpeg, videos, work_dir, settings, args.rounds)
    print(report["machine"])
    print(
        f"load average before: {report['load_average_before']}, "
        f"after: {report['load_average_after']}"
    )
    print(f"{report['ffmpeg']}; {report['pyav']}")
    sizes = ", ".join(report["output_sizes"])
    print(f"{report['videos']} videos resized to {sizes}, {report['rounds']} rounds")
    print(resize_table(report))
    for line in summary_lines(report):
        print(line)
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=2)
    return 0
