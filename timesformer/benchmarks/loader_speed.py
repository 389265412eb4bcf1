"""The training loader's speed: clips/s with one and several clips per video, against the
decode floor (:mod:`~timesformer.benchmarks.decode_floor`) and a naive PyAV loader, the CPU
cores one GPU needs, the cost of the clip augmentation (AUG), and the cost of one clip from a
long video; and the report of them.

The training loader (``build_loader(cfg, "train")``) runs BENCHMARK.NUM_EPOCHS epochs with
the config's DATA, DATA_LOADER and TRAIN.BATCH_SIZE (BENCHMARK.SHUFFLE: reshuffle each epoch;
BENCHMARK.LOG_PERIOD: progress lines), once for each number of clips per video
(DATA.TRAIN_CROP_NUM_TEMPORAL). The first epoch warms up (workers start, files come into the
page cache) and is not timed when there are several. The naive loader decodes every frame of
a video to RGB and then indexes one clip, with the same sampling, transforms, batch size and
workers. A loader's clips/s per worker is its clips/s over the workers that have batches to
make (:func:`busy_workers`): a fair figure when each worker has a core of its own.

Compared with the clip augmentation (``compare_aug``), the loaders run with AUG.ENABLE False,
and the training loader once more, at the first number of clips per video, with AUG.ENABLE True
(the config's other AUG keys): the "timesformer+aug" row.
"""

import time
from collections.abc import Callable

import numpy as np
import torch

from timesformer.benchmarks.decode_floor import (
    FloorDuringLoader,
    decode_floor,
    floor_figures,
    frames_per_second,
)
from timesformer.datasets import build_loader, shuffle_dataset
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.sampling import dense_clip_indices
from timesformer.datasets.video_container import VideoReadError, open_video
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

LOADER_NAMES = {
    "timesformer": "timesformer (seek, one pass over the clips' spans, skip unreferenced frames)",
    "naive": "naive PyAV (decode all to RGB, then index)",
    "timesformer+aug": "timesformer with AUG (RandAugment and random erasing)",
}
AUG_LOADER = "timesformer+aug"


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


def measure_loader(
    cfg,
    clips_per_video: int,
    naive: bool,
    timing_started: Callable[[], None],
    aug: bool | None = None,
) -> dict:
    """clips/s of the training loader (``build_loader(cfg, "train")``), or of the naive one,
    with DATA.TRAIN_CROP_NUM_TEMPORAL ``clips_per_video`` and AUG.ENABLE ``aug`` (None: as
    configured; True names the row "timesformer+aug"), and the workers that made them
    (``timing_started`` as :func:`clips_per_second`)."""
    cfg = cfg.clone()
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = clips_per_video
    if aug is not None:
        cfg.AUG.ENABLE = aug
    loader = build_loader(cfg, "train")
    if naive:
        loader = naive_loader(cfg, loader)
    rate = clips_per_second(cfg, loader, timing_started)
    return {
        "loader": "naive" if naive else AUG_LOADER if aug else "timesformer",
        "aug": cfg.AUG.ENABLE,
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


def loader_runs(
    clips_per_video: list[int], compare_aug: bool, naive: bool = True
) -> list[tuple[int, bool, bool | None]]:
    """(clips per video, naive, AUG.ENABLE or None: as configured) of each loader run: ours
    with each of ``clips_per_video``, with ``compare_aug`` ours with AUG at the first of them,
    then, with ``naive``, the naive loader with one clip per video."""
    aug = False if compare_aug else None
    runs: list[tuple[int, bool, bool | None]] = [(k, False, aug) for k in clips_per_video]
    if compare_aug:
        runs.append((clips_per_video[0], False, True))
    return runs + ([(1, True, aug)] if naive else [])


def loader_figures(
    cfg,
    paths: list[str],
    clips_per_video: list[int],
    gpu_clips_per_s: float | None,
    compare_aug: bool = False,
    naive: bool = True,
) -> tuple[list[dict], dict]:
    """(one row per loader run of :func:`loader_runs`, the decode floor of ``paths``), each with
    the floor timed while it ran (:func:`add_floor_and_gpu`); the naive loader's row only with
    ``naive``. A video that does not decode stops here, before any loader runs."""
    videos = decode_floor(cfg, paths)["videos"]
    rows, timings = [], []
    for clips, is_naive, aug in loader_runs(clips_per_video, compare_aug, naive):
        with FloorDuringLoader(cfg, paths) as floor_run:
            rows.append(measure_loader(cfg, clips, is_naive, floor_run.start_timing, aug))
        timings.append(floor_run.timing)
    floor = floor_figures(cfg, videos, timings, clips_per_video)
    for row, timing in zip(rows, timings, strict=True):
        add_floor_and_gpu(row, floor, frames_per_second([timing]), gpu_clips_per_s)
    return rows, floor


def seconds_per_clip(cfg, data_dir: str, clip_count: int = 20) -> float:
    """Mean time of one random training clip (decode + sample + transform) from ``data_dir``'s first
    video, over ``clip_count`` clips."""
    cfg = cfg.clone()
    cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = data_dir
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = 1
    dataset = Kinetics(cfg, "train")
    dataset[0]
    start = time.perf_counter()
    for _ in range(clip_count):
        dataset[0]
    return (time.perf_counter() - start) / clip_count


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
    """The ratios against their targets: K clips per video against 1, ours against naive; and
    ours with AUG against ours without, when both ran."""
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
    return lines + aug_lines(rows, ours)


def aug_lines(rows: list[dict], ours: dict[int, dict]) -> list[str]:
    """The "timesformer+aug" row's clips/s against ours without AUG, at the same clips per
    video, and the same as fractions of the decode floor timed beside each (which a shared
    machine's drifting speed changes less); no line when it did not run."""
    lines = []
    for row in rows:
        plain = ours.get(row["clips_per_video"]) if row["loader"] == AUG_LOADER else None
        if plain is not None:
            lines.append(
                f"with AUG / without ({row['clips_per_video']} clip(s) per video): "
                f"{row['clips_per_s']:.2f} / {plain['clips_per_s']:.2f} clips/s = "
                f"{row['clips_per_s'] / plain['clips_per_s']:.2f}x; of the floor "
                f"{row['floor_fraction']:.0%} / {plain['floor_fraction']:.0%} = "
                f"{row['floor_fraction'] / plain['floor_fraction']:.2f}x"
            )
    return lines
