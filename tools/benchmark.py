#!/usr/bin/env python3
"""Data-loading benchmark: clips/s of the training loader, against a naive PyAV loader,
and the cost of one clip from a 5-minute video against one from a 10-second video.

    python tools/benchmark.py --cfg FILE [--synthetic [--cache-dir DIR] [--num-videos N]]
        [KEY VALUE ...]

With --synthetic, 10-second 256p H.264 videos (and one 5-minute video, for the
seek comparison) are written once into --cache-dir and used instead of
DATA.PATH_TO_DATA_DIR; without it, the train split of the configured dataset is read. The loader
runs BENCHMARK.NUM_EPOCHS epochs with the config's DATA, DATA_LOADER and TRAIN.BATCH_SIZE
(BENCHMARK.SHUFFLE: reshuffle each epoch; BENCHMARK.LOG_PERIOD: progress lines).
The naive loader decodes every frame of a video to RGB and then indexes the clip,
with the same sampling, transforms, batch size and workers.
"""

import os
import time

import numpy as np
import torch

from timesformer.datasets import construct_loader, shuffle_dataset
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.sampling import dense_clip_indices
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import VideoReadError, open_video
from timesformer.engine.user_errors import errors_end_in_one_line
from timesformer.utils.logging import get_logger, setup_logging
from timesformer.utils.parser import build_arg_parser, load_config_or_exit

logger = get_logger("benchmark")

SHORT_SECONDS, LONG_SECONDS, FPS, HEIGHT, WIDTH = 10, 300, 30, 256, 340


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


def write_synthetic_dataset(cache_dir: str, num_videos: int) -> None:
    """``cache_dir/short``: num_videos 10-second videos + train.csv; ``cache_dir/long``: one
    5-minute video."""
    for name, seconds, count in (("short", SHORT_SECONDS, num_videos), ("long", LONG_SECONDS, 1)):
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


def clips_per_second(cfg, loader) -> float:
    """Run BENCHMARK.NUM_EPOCHS epochs over ``loader``; clips delivered per second."""
    clips, start = 0, time.perf_counter()
    for epoch in range(cfg.BENCHMARK.NUM_EPOCHS):
        if cfg.BENCHMARK.SHUFFLE:
            shuffle_dataset(loader, epoch)
        for iteration, (frames, *_rest) in enumerate(loader):
            clips += frames.shape[0]
            if (iteration + 1) % cfg.BENCHMARK.LOG_PERIOD == 0:
                rate = clips / (time.perf_counter() - start)
                logger.info("epoch %d iter %d: %.1f clips/s", epoch, iteration + 1, rate)
    return clips / (time.perf_counter() - start)


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
    dataset = Kinetics(cfg, "train")
    dataset[0]
    start = time.perf_counter()
    for _ in range(num_clips):
        dataset[0]
    return (time.perf_counter() - start) / num_clips


def main(argv: list[str] | None = None) -> None:
    parser = build_arg_parser("Benchmark the video data loader.")
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
    args = parser.parse_args(argv)
    setup_logging(is_master=True)
    cfg = load_config_or_exit(parser, args)
    if args.synthetic:
        write_synthetic_dataset(args.cache_dir, args.num_videos)
        cfg.DATA.PATH_TO_DATA_DIR = cfg.DATA.PATH_PREFIX = os.path.join(args.cache_dir, "short")
    with errors_end_in_one_line(parser):  # e.g. a missing split file
        loader = construct_loader(cfg, "train")
    rows = [("loader (seek, decode only the clip)", clips_per_second(cfg, loader))]
    rows.append(
        ("naive PyAV (decode all, then index)", clips_per_second(cfg, naive_loader(cfg, loader)))
    )
    print("\n| loader | clips/s |\n|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} |")
    print(f"\nspeed-up: {rows[0][1] / rows[1][1]:.2f}x")
    if args.synthetic:
        short = seconds_per_clip(cfg, os.path.join(args.cache_dir, "short"))
        long = seconds_per_clip(cfg, os.path.join(args.cache_dir, "long"))
        print(
            "\n| video | ms per clip |\n|---|---|\n"
            f"| 10 s | {short * 1e3:.1f} |\n| 5 min | {long * 1e3:.1f} |"
        )
        print(f"\n5-minute / 10-second clip cost: {long / short:.2f}x")


if __name__ == "__main__":
    main()
