"""The synthetic videos the loader benchmark reads: 10-second 340x256 H.264 videos of a moving
texture, and one 5-minute video for the seek comparison, written once and reused."""

import os

from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

SHORT_SECONDS, LONG_SECONDS, FPS, HEIGHT, WIDTH = 10, 300, 30, 256, 340


def write_synthetic_dataset(cache_dir: str, num_videos: int, long_video: bool = True) -> None:
    """``cache_dir/short``: num_videos 10-second videos + train.csv; ``cache_dir/long`` (when
    ``long_video``): one 5-minute video."""
    kinds = [("short", SHORT_SECONDS, num_videos)] + ([("long", LONG_SECONDS, 1)] * long_video)
    for name, seconds, count in kinds:
        folder = os.path.join(cache_dir, name)
        os.makedirs(folder, exist_ok=True)
        paths = []
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
            paths.append(path)
        write_train_list(folder, paths)


def write_train_list(folder: str, paths: list[str]) -> None:
    """``folder/train.csv``: each of ``paths`` by its file name, with label 0."""
    with open(os.path.join(folder, "train.csv"), "w") as stream:
        stream.writelines(f"{os.path.basename(path)} 0\n" for path in paths)
