"""The training loader on videos like the mirrors' (``tools/benchmark.py --sources mirrors``):
for the 720p sources and each prepared version of them
(:mod:`~timesformer.benchmarks.mirror_sources`), clips/s per core at each number of clips per
video, the decode floor timed beside it, the file size per video-second and the CPU cores one
GPU needs; the ratios between the variants, and the arithmetic of the cores.

Clips/s per core: the loader runs one worker process (the command line sets
DATA_LOADER.NUM_WORKERS 1 unless given another value), which decodes each video with one thread
(DATA_LOADER.ENABLE_MULTI_THREAD_DECODE False), so that its clips/s is one core's; the floor
decodes in a process of its own on a second core (:mod:`~timesformer.benchmarks.decode_floor`).
With W workers the figure is the loader's clips/s over W, fair while W + 1 cores are free.

The variants are measured in rounds (:func:`measure_variants`), and each figure is given as
measured and drift-corrected: its fraction of the floor timed beside it times a common floor
timed with the variants interleaved (:func:`add_common_floor`), so that a shared machine's
changing speed moves the ratios between variants less.
"""

import numpy as np

from timesformer.benchmarks.decode_floor import decode_floor, frames_per_second
from timesformer.benchmarks.loader_speed import loader_figures
from timesformer.benchmarks.mirror_sources import bytes_per_video_second, frame_size
from timesformer.datasets.build import build_dataset

VARIANT_LABELS = {
    "source": "source (x264 defaults, AAC audio)",
    "prepared": "prepared (default encoding)",
    "fast_decode": "prepared (default encoding, fast decode)",
    "random_access": "prepared (random-access preset)",
}


def measure_variant(
    cfg,
    name: str,
    folder: str,
    clips_per_video: list[int],
    gpu_clips_per_s: float | None,
    floor_videos: int,
    compare_aug: bool,
) -> dict:
    """The training loader's rows over ``folder``'s train split (each number of
    ``clips_per_video``, and with AUG when ``compare_aug``; no naive loader), the floor of its
    first ``floor_videos`` videos beside each (:func:`loader_figures`), its frame size and
    bytes per video-second."""
    cfg = cfg.clone()
    cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = folder
    paths = build_dataset(cfg.TRAIN.DATASET, cfg, "train").paths
    rows, floor = loader_figures(
        cfg, paths[:floor_videos], clips_per_video, gpu_clips_per_s, compare_aug, naive=False
    )
    return {
        "variant": name,
        "folder": folder,
        "frame_size": frame_size(paths[0]),
        "bytes_per_video_second": bytes_per_video_second(paths),
        "floor_paths": paths[:floor_videos],
        "rows": rows,
        "floor": floor,
    }


def variant_label(result: dict) -> str:
    """E.g. ``"568x320 prepared (default encoding)"``."""
    width, height = result["frame_size"]
    return f"{width}x{height} {VARIANT_LABELS[result['variant']]}"


def variants_table(results: list[dict]) -> str:
    """One markdown row per loader run of each variant of :func:`measure_variant`."""
    lines = [
        "| videos | file size per video-second | loader | clips per video | clips/s per core "
        "| decode floor clips/s | per core / floor | clips/s per core, drift-corrected "
        "| CPU cores one GPU needs |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        size = result["bytes_per_video_second"]
        for row in result["rows"]:
            cores = f"{row['cores_per_gpu']:.0f}" if row.get("cores_per_gpu") else ""
            lines.append(
                f"| {variant_label(result)} | {size / 1024:.0f} KiB ({size * 8 / 1e6:.2f} Mbit/s) "
                f"| {row['loader']} | {row['clips_per_video']} "
                f"| {row['clips_per_s_per_worker']:.2f} | {row['floor_clips_per_s']:.2f} "
                f"| {row['floor_fraction']:.0%} "
                f"| {row['clips_per_s_per_core_drift_corrected']:.2f} | {cores} |"
            )
    return "\n".join(lines)


def measure_variants(
    cfg,
    folders: dict[str, str],
    rounds: int,
    clips_per_video: list[int],
    gpu_clips_per_s: float | None,
    floor_videos: int,
    compare_aug: bool,
) -> list[dict]:
    """Each variant of ``folders`` (``{name: folder}``) measured by :func:`measure_variant`
    ``rounds`` times, the variants in turn, their order reversed every other round, so that a
    shared machine's drift falls on each alike; one result per variant
    (:func:`merged_rounds`)."""
    measured: dict[str, list[dict]] = {name: [] for name in folders}
    for round_number in range(rounds):
        order = list(folders.items())
        for name, folder in order if round_number % 2 == 0 else order[::-1]:
            measured[name].append(
                measure_variant(
                    cfg, name, folder, clips_per_video, gpu_clips_per_s, floor_videos, compare_aug
                )
            )
    merged = [merged_rounds(results, gpu_clips_per_s) for results in measured.values()]
    add_common_floor(merged, common_floors(cfg, {r["variant"]: r["floor_paths"] for r in merged}))
    return merged


COMMON_FLOOR_PASSES = 2
"""Passes over every variant's floor videos that :func:`common_floors` times."""


def common_floors(cfg, paths: dict[str, list[str]]) -> dict[str, float]:
    """Each variant's decode floor in frames/s, timed in this process with the variants
    interleaved (the first span of one video of each in turn, :data:`COMMON_FLOOR_PASSES`
    times over), so that the floors of all of them see the machine at the same speed."""
    timings: dict[str, list[dict]] = {name: [] for name in paths}
    for _ in range(COMMON_FLOOR_PASSES):
        for number in range(max(len(videos) for videos in paths.values())):
            for name, videos in paths.items():
                if number < len(videos):
                    timings[name].append(decode_floor(cfg, [videos[number]]))
    return {name: frames_per_second(timing) for name, timing in timings.items()}


def add_common_floor(results: list[dict], floors: dict[str, float]) -> None:
    """Add to each result its common floor (frames/s of :func:`common_floors`), and to each of
    its rows (the rounds' too) ``clips_per_s_per_core_drift_corrected``: its fraction of the
    floor timed beside it times the common floor's clip spans/s at its clips per video, the
    clips/s per core at the speed the machine had while the floors were timed together."""
    for result in results:
        frames_per_s = result["common_floor_frames_per_s"] = floors[result["variant"]]
        frames_per_clip = result["floor"]["frames_per_clip"]
        for row in [*result["rows"], *(row for rows in result["rounds"] for row in rows)]:
            row["clips_per_s_per_core_drift_corrected"] = (
                row["floor_fraction"] * frames_per_s / frames_per_clip[row["clips_per_video"]]
            )


ROUND_MEANS = ("clips_per_s", "clips_per_s_per_worker", "floor_clips_per_s", "floor_fraction")
"""A row's figures that :func:`merged_rounds` averages over the rounds."""


def merged_rounds(results: list[dict], gpu_clips_per_s: float | None) -> dict:
    """One variant's results of several rounds as one: each row's :data:`ROUND_MEANS` the mean
    over the rounds, its CPU cores per GPU from the mean clips/s per core; the floor's rates the
    mean (every timing kept); each round's rows under ``"rounds"``."""
    rows = []
    for same in zip(*(result["rows"] for result in results), strict=True):
        row = {**same[0], **{key: float(np.mean([r[key] for r in same])) for key in ROUND_MEANS}}
        if gpu_clips_per_s:
            row["cores_per_gpu"] = gpu_clips_per_s / row["clips_per_s_per_worker"]
        rows.append(row)
    floors = [result["floor"] for result in results]
    floor = {
        **floors[0],
        "frames_per_s": float(np.mean([f["frames_per_s"] for f in floors])),
        "clips_per_s": float(np.mean([f["clips_per_s"] for f in floors])),
        "frames_per_s_timings": [rate for f in floors for rate in f["frames_per_s_timings"]],
    }
    return {**results[0], "rows": rows, "floor": floor, "rounds": [r["rows"] for r in results]}


def per_core(rows: list[dict], clips_per_video: int, key: str) -> float:
    """Clips/s per core (the rows' ``key``) of the training loader without AUG at
    ``clips_per_video``."""
    return next(
        row[key]
        for row in rows
        if row["loader"] == "timesformer" and row["clips_per_video"] == clips_per_video
    )


def speed_ratio(numerator: dict, denominator: dict, clips: tuple[int, int]) -> str:
    """``numerator``'s clips/s per core at ``clips[0]`` clips per video over ``denominator``'s
    at ``clips[1]`` (two results of :func:`merged_rounds`), and each round's when several: as
    measured, then drift-corrected (:func:`add_common_floor`)."""
    texts = []
    for key in ("clips_per_s_per_worker", "clips_per_s_per_core_drift_corrected"):
        mean = per_core(numerator["rows"], clips[0], key) / per_core(
            denominator["rows"], clips[1], key
        )
        each = [
            per_core(top, clips[0], key) / per_core(bottom, clips[1], key)
            for top, bottom in zip(numerator["rounds"], denominator["rounds"], strict=True)
        ]
        rounds = f" (rounds: {', '.join(f'{r:.2f}x' for r in each)})" if len(each) > 1 else ""
        texts.append(f"{mean:.2f}x{rounds}")
    return f"{texts[0]}, drift-corrected {texts[1]}"


def ratio_lines(results: list[dict]) -> list[str]:
    """The variants against each other at the first number of clips per video (clips/s per
    core; file size), against issue 28's targets, and each variant's K clips per video against
    the first."""
    by_name = {result["variant"]: result for result in results}
    first = results[0]["rows"][0]["clips_per_video"]
    source, prepared, fast_decode, random_access = (
        by_name[n] for n in ("source", "prepared", "fast_decode", "random_access")
    )

    def size(top: dict, bottom: dict) -> str:
        return f"{top['bytes_per_video_second'] / bottom['bytes_per_video_second']:.2f}x"

    def speed(top: dict, bottom: dict) -> str:
        return speed_ratio(top, bottom, (first, first))

    same = f"{first} clip(s) per video"
    lines = [
        f"prepared / source, clips/s per core ({same}): {speed(prepared, source)} "
        f"(target >= 5x); file size {size(prepared, source)}",
        f"fast-decode prepared / source, clips/s per core ({same}): "
        f"{speed(fast_decode, source)} (target >= 5x); file size {size(fast_decode, source)}",
        f"fast-decode / default prepared, clips/s per core ({same}): "
        f"{speed(fast_decode, prepared)}; file size {size(fast_decode, prepared)}",
        f"random-access / default prepared, clips/s per core ({same}): "
        f"{speed(random_access, prepared)} (target >= 2x); file size "
        f"{size(random_access, prepared)} (target <= 1.6x)",
        f"random-access prepared / source, clips/s per core ({same}): "
        f"{speed(random_access, source)}; file size {size(random_access, source)}",
    ]
    for result in results:
        lines.extend(
            f"{variant_label(result)}: {k} clips per video / {first}: "
            f"{speed_ratio(result, result, (k, first))} clips/s per core"
            for k in sorted({row["clips_per_video"] for row in result["rows"]} - {first})
        )
    return lines


def common_floor_line(results: list[dict]) -> str:
    """The report's line on the floors of :func:`common_floors`."""
    floors = ", ".join(
        f"{variant_label(result)} {result['common_floor_frames_per_s']:.0f}" for result in results
    )
    return (
        f"Common decode floor, frames/s (the variants interleaved in one process, "
        f"{COMMON_FLOOR_PASSES} passes): {floors}; drift-corrected clips/s per core = per core / "
        "floor x this floor's clip spans/s"
    )


def cores_lines(results: list[dict], gpu_clips_per_s: float) -> list[str]:
    """The arithmetic of the CPU cores one GPU needs: the GPU's training clips/s over one core's,
    measured and drift-corrected, for each variant and number of clips per video."""
    lines = [
        "CPU cores one GPU needs = the GPU's training clips/s / one core's clips/s "
        "(measured; drift-corrected):"
    ]
    for result in results:
        for row in result["rows"]:
            if row["loader"] == "timesformer":
                measured = row["clips_per_s_per_worker"]
                corrected = row["clips_per_s_per_core_drift_corrected"]
                lines.append(
                    f"  {variant_label(result)}, {row['clips_per_video']} clip(s) per video: "
                    f"{gpu_clips_per_s:.0f} / {measured:.2f} = "
                    f"{gpu_clips_per_s / measured:.0f} cores; {gpu_clips_per_s:.0f} / "
                    f"{corrected:.2f} = {gpu_clips_per_s / corrected:.0f} cores"
                )
    return lines
