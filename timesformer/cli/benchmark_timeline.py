"""Timeline benchmark: ``timesformer timeline``'s peak memory on a long video against a short one
(flat memory), and the windows/s it reaches, with the demo model and optionally ViT-B.

    python tools/benchmark_timeline.py [--cache-dir DIR] [--short-minutes 2]
        [--long-minutes 120] [--size 64] [--vit-b] [--vit-b-minutes 1] [--vit-b-size 64]
        [--json FILE]

Synthetic SIZExSIZE 30 fps H.264 videos of a moving texture (x264 ultrafast, frames streamed to
the encoder) and random-weight checkpoints are written once into --cache-dir and reused. Each
run is the timeline command (stride: half a window; no annotated copy; outputs in a temporary
folder) in a fresh subprocess, one at a time, as :mod:`timesformer.benchmarks.timeline_speed`
says: the demo model (configs/Demo/TimeSformer_divST_tiny.yaml) on the short and the long
video, and with --vit-b, ViT-B (configs/Kinetics/TimeSformer_divST_8x32_224.yaml, random
weights) on a --vit-b-minutes video. Prints the machine and its load average before and after,
a table (video length, windows, wall seconds, windows/s, peak RSS) and the long video's peak RSS
over the short one's against its target (<= 1.10).

Exit status: 0 measured, 2 a mistake in the command line.
"""

import argparse
import json
import os

from timesformer.utils.logging import setup_logging
from timesformer.utils.user_errors import errors_end_in_one_line


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """(the parser, the parsed command line)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--cache-dir",
        default=os.path.expanduser("~/.cache/timesformer/timeline_benchmark"),
        help="where the videos and checkpoints are written once and reused (default: %(default)s)",
    )
    add("--short-minutes", type=float, default=2.0, help="the short video (2 min)")
    add("--long-minutes", type=float, default=120.0, help="the long video (120 min)")
    add("--size", type=int, default=64, help="the demo videos' width and height (64)")
    add("--vit-b", action="store_true", help="also measure ViT-B (random weights)")
    add("--vit-b-minutes", type=float, default=1.0, help="ViT-B's video (1 min)")
    add("--vit-b-size", type=int, default=64, help="ViT-B's video's width and height (64)")
    add("--json", metavar="FILE", help="also write the report as JSON")
    return parser, parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    setup_logging(is_master=True)
    parser, args = parse_args(argv)
    with errors_end_in_one_line(parser, exit_status=2):
        if min(args.short_minutes, args.long_minutes, args.vit_b_minutes) <= 0:
            parser.error("--short-minutes, --long-minutes and --vit-b-minutes must be positive")
        if min(args.size, args.vit_b_size) < 16 or (args.size | args.vit_b_size) % 2:
            parser.error("--size and --vit-b-size must be even, and at least 16")
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Measure the runs, print (and write) the report; 0."""
    # the encoder loads here, after the arguments are checked (torch, in the runs and checkpoints)
    from timesformer.benchmarks.timeline_speed import measure_timeline, ratio_line, timeline_table

    report = measure_timeline(
        args.cache_dir,
        [args.short_minutes * 60, args.long_minutes * 60],
        [args.vit_b_minutes * 60] if args.vit_b else [],
        args.size,
        args.vit_b_size,
    )
    print(report["machine"])
    print(
        f"load average before: {report['load_average_before']}, "
        f"after: {report['load_average_after']}"
    )
    print(f"videos: {report['video_size']}")
    print(timeline_table(report))
    print(ratio_line(report))
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=2)
    return 0
