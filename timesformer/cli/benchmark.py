"""Data-loading benchmark: clips/s of the training loader with one and several clips per video,
against the decode floor and a naive PyAV loader; the CPU cores one GPU needs; and the cost of
one clip from a 5-minute video against one from a 10-second video.

    python tools/benchmark.py --cfg FILE [--synthetic [--no-long-video] | --sources mirrors]
        [--cache-dir DIR] [--num-videos N] [--clips-per-video K[,K...]] [--floor-videos N]
        [--gpu-clips-per-s N | --gpu-clips-per-s-from FILE] [--compare-aug] [--rounds N]
        [--json FILE] [KEY VALUE ...]

With --synthetic, 10-second 340x256 H.264 videos (and one 5-minute video, for the seek
comparison, unless --no-long-video) are written once into --cache-dir and used instead of
DATA.PATH_TO_DATA_DIR; without it, the train split of the configured dataset is read.

The loader runs once for each --clips-per-video K (DATA.TRAIN_CROP_NUM_TEMPORAL; 1 and 2 by
default), then the naive loader once, as :mod:`timesformer.benchmarks.loader_speed` says; the
decode floor (:mod:`timesformer.benchmarks.decode_floor`) decodes the first span of each of the
first --floor-videos videos in turn while each loader runs. With --compare-aug the loaders run
with AUG.ENABLE False, and the training loader once more (at the first K) with AUG.ENABLE True
and the config's other AUG keys, reported side by side as "with AUG / without".

With --sources mirrors, videos like those Kinetics mirrors ship (10-second 1280x720 H.264 at 30
fps, x264's defaults, with an AAC audio stream; 8 by default) are written once into --cache-dir,
with their prepared versions made by ``prepare_dataset.py resize``'s re-encoder at short side
320 (its default encoding, the same with --fast-decode, and its random-access preset); for each
of the four the training loader runs at each K (no naive loader) with the decode floor beside
it, and the report gives clips/s per core, the floor, the file size per video-second, the CPU
cores one GPU needs (at 500 clips/s unless given a GPU figure: an estimate for ViT-B 8x32 on one
H200) with the arithmetic, and the variants' ratios (with --rounds N, the four measured in turn
N times, the order reversed every other round, and the means reported with each round's ratios).
Clips/s per core: this mode runs one loader worker (DATA_LOADER.NUM_WORKERS 1 unless the command
line gives another number), one decoding thread per video, the floor's process on a second core
(:mod:`timesformer.benchmarks.mirror_speed`).

CPU cores one GPU needs: the GPU's training clips/s (--gpu-clips-per-s, or the first row of a
``tools/benchmark_model.py --json`` file, ``rows[0]["clips_per_s"]["ours"]``) over one worker's
clips/s. A GPU figure that cannot be read is reported after the other figures (exit status 1).
"""

import argparse
import json
import os
import sys

from timesformer.benchmarks.gpu_estimate import GPU_CLIPS_PER_S_ESTIMATE, estimate_note
from timesformer.benchmarks.machine import cpu_cores, load_average
from timesformer.cli.config_loading import load_command_config
from timesformer.errors import TimesformerError
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

SYNTHETIC_VIDEOS, MIRROR_VIDEOS = 16, 8
"""The default --num-videos of --synthetic and of --sources mirrors."""


class GpuFigureError(TimesformerError):
    """The GPU's training clips/s was asked for (--gpu-clips-per-s-from) and cannot be read."""


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


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """(the parser, the parsed command line); a count below 1 stops it, exit status 2."""
    parser = build_arg_parser("Benchmark the video data loader against the decode floor.")
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument(
        "--synthetic",
        action="store_true",
        help="Benchmark on synthetic videos written to --cache-dir (and compare a 5-minute video).",
    )
    sources.add_argument(
        "--sources",
        choices=["mirrors"],
        help="mirrors: benchmark 10-second 1280x720 H.264+AAC videos like the Kinetics mirrors' "
        "and their short-side-320 prepared versions (default, fast-decode and random-access "
        "encodings), written to --cache-dir: clips/s per core (1 loader worker unless "
        "DATA_LOADER.NUM_WORKERS is given), decode floor, file size per video-second, CPU "
        f"cores one GPU needs (at {GPU_CLIPS_PER_S_ESTIMATE:.0f} clips/s, an estimate for "
        "ViT-B 8x32 on one H200, unless a GPU figure is given).",
    )
    parser.add_argument(
        "--cache-dir",
        default=os.path.expanduser("~/.cache/timesformer/benchmark"),
        help="Where the synthetic or mirror-like benchmark videos are written once and reused.",
    )
    parser.add_argument(
        "--num-videos",
        type=int,
        help="Synthetic 10-second videos to write (default: 16; 8 with --sources mirrors).",
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
    parser.add_argument(
        "--compare-aug",
        action="store_true",
        help="Also run the loader with AUG.ENABLE True (at the first K) beside it without.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="With --sources mirrors: measure the four kinds of video in turn this many times "
        "(the order reversed every other round) and report the means, and each round's ratios.",
    )
    parser.add_argument("--json", metavar="FILE", help="Also write the figures to FILE as JSON.")
    args = parser.parse_args(argv)
    if args.num_videos is None:
        args.num_videos = MIRROR_VIDEOS if args.sources else SYNTHETIC_VIDEOS
    counts = (min(args.clips_per_video), args.num_videos, args.floor_videos, args.rounds)
    if min(counts) < 1:
        parser.error(
            "--clips-per-video, --num-videos, --floor-videos and --rounds must be 1 or more"
        )
    return parser, args


def seek_comparison(cfg, cache_dir: str) -> dict:
    """Print the cost of one clip of the 5-minute synthetic video against one of a 10-second one;
    return it in ms, as the report's ``ms_per_clip``."""
    from timesformer.benchmarks.loader_speed import seconds_per_clip

    short = seconds_per_clip(cfg, os.path.join(cache_dir, "short"))
    long = seconds_per_clip(cfg, os.path.join(cache_dir, "long"))
    print(
        "\n| video | ms per clip |\n|---|---|\n"
        f"| 10 s | {short * 1e3:.1f} |\n| 5 min | {long * 1e3:.1f} |"
    )
    print(f"\n5-minute / 10-second clip cost: {long / short:.2f}x")
    return {"10s": short * 1e3, "5min": long * 1e3}


def benchmark(cfg, args: argparse.Namespace, argv: list[str] | None) -> None:
    """Run every loader of the command line ``args`` (``argv``) and print the report.

    Raises:
        GpuFigureError: after the report, when the GPU's clips/s cannot be read.
    """
    # torch and the loaders load here, after the arguments and config are checked
    from timesformer.benchmarks.decode_floor import floor_line
    from timesformer.benchmarks.loader_speed import loader_figures, loader_table, summary_lines
    from timesformer.benchmarks.synthetic_videos import write_synthetic_dataset
    from timesformer.datasets.build import build_dataset

    gpu_clips_per_s, gpu_problem = read_gpu_clips_per_s(args)
    if args.synthetic:
        write_synthetic_dataset(args.cache_dir, args.num_videos, not args.no_long_video)
        cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = os.path.join(args.cache_dir, "short")
    machine = cpu_cores()
    print(f"Machine: {machine}")
    paths = build_dataset(cfg.TRAIN.DATASET, cfg, "train").paths[: args.floor_videos]
    rows, floor = loader_figures(
        cfg, paths, args.clips_per_video, gpu_clips_per_s, args.compare_aug
    )
    print("\n" + floor_line(floor, len(paths)))
    if gpu_clips_per_s:
        print(f"GPU training speed: {gpu_clips_per_s:.1f} clips/s")
    print("\n" + loader_table(rows))
    print("\n" + "\n".join(summary_lines(rows)))
    report = {
        "machine": machine,
        "argv": sys.argv[1:] if argv is None else argv,
        "floor": floor,
        "rows": rows,
        "gpu_clips_per_s": gpu_clips_per_s,
    }
    if args.synthetic and not args.no_long_video:
        report["ms_per_clip"] = seek_comparison(cfg, args.cache_dir)
    print(f"\nLoad average after the run: {load_average()}")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=1)
    if gpu_problem:
        raise GpuFigureError(gpu_problem)


def mirror_gpu_rate(args) -> tuple[float | None, str, str]:
    """(the GPU's training clips/s, where it comes from, why it is None) for --sources mirrors:
    :func:`read_gpu_clips_per_s`'s figure when one was given, else the estimate."""
    if args.gpu_clips_per_s is None and args.gpu_clips_per_s_from is None:
        return GPU_CLIPS_PER_S_ESTIMATE, estimate_note(), ""
    clips_per_s, problem = read_gpu_clips_per_s(args)
    where = (
        "--gpu-clips-per-s"
        if args.gpu_clips_per_s is not None
        else f"read from {args.gpu_clips_per_s_from}"
    )
    return clips_per_s, where, problem


def benchmark_mirrors(cfg, args: argparse.Namespace, argv: list[str] | None) -> None:
    """--sources mirrors: write the mirror-like videos and their prepared versions (once), run
    the training loader over each and print the report.

    Raises:
        GpuFigureError: after the report, when the GPU's clips/s cannot be read.
    """
    from timesformer.benchmarks.decode_floor import floor_line
    from timesformer.benchmarks.mirror_sources import write_mirror_dataset
    from timesformer.benchmarks.mirror_speed import (
        common_floor_line,
        cores_lines,
        measure_variants,
        ratio_lines,
        variant_label,
        variants_table,
    )

    gpu_clips_per_s, gpu_note, gpu_problem = mirror_gpu_rate(args)
    if "DATA_LOADER.NUM_WORKERS" not in args.opts[::2]:
        cfg.DATA_LOADER.NUM_WORKERS = 1  # one core's clips/s; the floor has another
    folders = write_mirror_dataset(args.cache_dir, args.num_videos)
    machine = cpu_cores()
    print(f"Machine: {machine}")
    print(
        f"Loader: DATA_LOADER.NUM_WORKERS {cfg.DATA_LOADER.NUM_WORKERS}, "
        f"ENABLE_MULTI_THREAD_DECODE {cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE}, "
        f"TRAIN.BATCH_SIZE {cfg.TRAIN.BATCH_SIZE}, BENCHMARK.NUM_EPOCHS "
        f"{cfg.BENCHMARK.NUM_EPOCHS}; clips/s per core = clips/s / workers (one decoding "
        "thread each; the decode floor's process on another core)"
    )
    results = measure_variants(
        cfg,
        folders,
        args.rounds,
        args.clips_per_video,
        gpu_clips_per_s,
        args.floor_videos,
        args.compare_aug,
    )
    print()
    for result in results:
        floor = result["floor"]
        print(f"{variant_label(result)}: {floor_line(floor, len(floor['videos']))}")
    print(common_floor_line(results))
    if gpu_clips_per_s:
        print(f"\nGPU training speed: {gpu_clips_per_s:.1f} clips/s ({gpu_note})")
    print("\n" + variants_table(results))
    print("\n" + "\n".join(ratio_lines(results)))
    if gpu_clips_per_s:
        print("\n" + "\n".join(cores_lines(results, gpu_clips_per_s)))
    load_after = load_average()
    print(f"\nLoad average after the run: {load_after}")
    if args.json:
        report = {
            "machine": machine,
            "argv": sys.argv[1:] if argv is None else argv,
            "sources": args.sources,
            "gpu_clips_per_s": gpu_clips_per_s,
            "gpu_clips_per_s_from": gpu_note,
            "variants": results,
            "load_average_after": load_after,
        }
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=1)
    if gpu_problem:
        raise GpuFigureError(gpu_problem)


def main(argv: list[str] | None = None) -> int:
    """Write the synthetic or mirror-like videos if asked, run every loader, print the report;
    exit status 1
    when the GPU's clips/s was asked for and cannot be read."""
    parser, args = parse_args(argv)
    setup_logging(is_master=True)
    with errors_end_in_one_line(parser):  # e.g. a missing split file, an unreadable video
        run = benchmark_mirrors if args.sources == "mirrors" else benchmark
        run(load_command_config(args), args, argv)
    return 0
