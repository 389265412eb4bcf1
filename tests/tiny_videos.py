"""Tiny videos, split files and configs that the data-pipeline tests write in temp dirs."""

import os

import numpy as np

from timesformer.config.defaults import get_cfg
from timesformer.datasets.synthetic_video import frame_number_video, write_video

FRAME_STEP = 4
"""Gray level step per frame of the frame-number videos: frame t has level 4 * t."""

# name: (frames, height, width, fps); portrait and landscape, 24-60 fps, one shorter than a clip.
VIDEOS = {
    "landscape_30fps.mp4": (60, 48, 64, 30),
    "portrait_24fps.mp4": (40, 64, 48, 24),
    "short_60fps.mp4": (8, 48, 64, 60),
}


def write_frame_number_video(
    path: str, num_frames: int, height: int, width: int, fps: float, red_ramp: bool = False, **kwargs
) -> str:
    """A video whose frame t is gray level 4 * t (see :func:`frame_numbers`); with ``red_ramp``
    red rises to the right and down, so that crops at different places differ (H.264 only:
    VP8/VP9 then shift green too much to read frame numbers)."""
    frames = frame_number_video(num_frames, height, width, FRAME_STEP)
    if red_ramp:
        frames[..., 0] = 2 * (np.arange(height)[:, None] + np.arange(width)[None, :])
    return write_video(path, frames, fps, **kwargs)


def frame_numbers(frames_thwc) -> list[int]:
    """Recover the frame number of each decoded (T, H, W, 3) frame of a frame-number video
    (from the green channel, so that red and blue may carry other marks)."""
    return [int(round(float(frame[..., 1].mean()) / FRAME_STEP)) for frame in frames_thwc]


def write_truncated_copy(source: str, path: str) -> str:
    """The first third of ``source``: an mp4 whose index (moov atom) is missing."""
    with open(source, "rb") as stream:
        data = stream.read()
    with open(path, "wb") as stream:
        stream.write(data[: len(data) // 3])
    return path


def write_kinetics_dir(folder: str, extra_lines: tuple[str, ...] = (), splits=("train", "val", "test")) -> list[str]:
    """Write VIDEOS into ``folder`` plus ``{split}.csv`` files (label = position); returns the names."""
    names = list(VIDEOS)
    for name, (frames, height, width, fps) in VIDEOS.items():
        write_frame_number_video(os.path.join(folder, name), frames, height, width, fps, red_ramp=True)
    for split in splits:
        with open(os.path.join(folder, f"{split}.csv"), "w") as stream:
            stream.writelines(f"{name} {label}\n" for label, name in enumerate(names))
            stream.writelines(line + "\n" for line in extra_lines)
    return names


def tiny_cfg(data_dir: str = ""):
    """Defaults shrunk for 48-64 px videos: 4-frame clips, 32 px crops, CPU, no workers."""
    cfg = get_cfg()
    cfg.NUM_GPUS = 0
    cfg.DATA.PATH_TO_DATA_DIR = data_dir
    cfg.DATA.PATH_PREFIX = data_dir
    cfg.DATA.NUM_FRAMES = 4
    cfg.DATA.SAMPLING_RATE = 2
    cfg.DATA.TRAIN_JITTER_SCALES = [32, 40]
    cfg.DATA.TRAIN_CROP_SIZE = 32
    cfg.DATA.TEST_CROP_SIZE = 32
    cfg.DATA.NUM_RETRIES = 3
    cfg.DATA_LOADER.NUM_WORKERS = 0
    cfg.MODEL.NUM_CLASSES = 5
    cfg.TRAIN.BATCH_SIZE = 2
    cfg.TEST.BATCH_SIZE = 3
    cfg.TEST.NUM_ENSEMBLE_VIEWS = 2
    cfg.TEST.NUM_SPATIAL_CROPS = 3
    return cfg
