"""Tiny CPU runs for the engine tests: generated videos, split files and a tiny config."""

import os

import numpy as np

from timesformer.config import assert_and_infer_cfg, get_cfg
from timesformer.config.merge import merge_overrides
from timesformer.datasets.synthetic_video import write_video

TINY_OVERRIDES = [
    "NUM_GPUS", "0",
    "TRAIN.BATCH_SIZE", "4", "TEST.BATCH_SIZE", "4", "GLOBAL_BATCH_SIZE", "4",
    "DATA_LOADER.NUM_WORKERS", "0",
    "TIMESFORMER.EMBED_DIM", "32", "TIMESFORMER.DEPTH", "1", "TIMESFORMER.NUM_HEADS", "2",
    "TIMESFORMER.DROP_PATH_RATE", "0.0", "MODEL.DROPOUT_RATE", "0.0",
    "DATA.NUM_FRAMES", "2", "DATA.SAMPLING_RATE", "2",
    "DATA.TRAIN_CROP_SIZE", "32", "DATA.TEST_CROP_SIZE", "32", "DATA.TRAIN_JITTER_SCALES", "[32, 40]",
    "MODEL.NUM_CLASSES", "2",
    "SOLVER.OPTIMIZING_METHOD", "sgd", "SOLVER.BASE_LR", "0.05", "SOLVER.LR_POLICY", "cosine",
    "SOLVER.MAX_EPOCH", "2", "SOLVER.WEIGHT_DECAY", "0.0",
    "TRAIN.EVAL_PERIOD", "1", "TRAIN.CHECKPOINT_PERIOD", "1",
    "TEST.NUM_ENSEMBLE_VIEWS", "2", "TEST.NUM_SPATIAL_CROPS", "1",
    "LOG_PERIOD", "1", "RNG_SEED", "0",
]


def write_color_dataset(root: str, videos_per_class: int = 4, size: int = 32, frames: int = 8) -> str:
    """Videos whose label is their color (dark: 0, bright: 1), flat over space and time.

    Every crop, scale, flip or clip position of a video gives the same tensor, so
    runs are deterministic whatever the sampler order or augmentation draws.
    Writes ``root/{train,val,test}.csv``; returns ``root``.
    """
    os.makedirs(root, exist_ok=True)
    lines = []
    for label, level in ((0, 40), (1, 210)):
        for i in range(videos_per_class):
            clip = np.full((frames, size, size, 3), level + 6 * i, dtype=np.uint8)
            path = os.path.join(root, f"c{label}_{i}.mp4")
            write_video(path, clip, fps=30)
            lines.append(f"{path} {label}\n")
    for split in ("train", "val", "test"):
        with open(os.path.join(root, f"{split}.csv"), "w") as stream:
            stream.writelines(lines)
    return root


def tiny_cfg(data_dir: str, output_dir: str, *overrides: str):
    """The tiny CPU config on ``data_dir``, writing to ``output_dir``, with extra overrides."""
    cfg = get_cfg()
    merge_overrides(cfg, TINY_OVERRIDES + ["DATA.PATH_TO_DATA_DIR", data_dir, "OUTPUT_DIR", output_dir, *overrides])
    return assert_and_infer_cfg(cfg)


def tiny_args(data_dir: str, output_dir: str, *overrides: str) -> list[str]:
    """``tools/run_net.py`` arguments for the tiny CPU config."""
    return TINY_OVERRIDES + ["DATA.PATH_TO_DATA_DIR", data_dir, "OUTPUT_DIR", output_dir, *overrides]


def json_stats(output_dir: str) -> list[dict]:
    """The json_stats records of ``output_dir/stdout.log``, in order."""
    import json

    records = []
    with open(os.path.join(output_dir, "stdout.log")) as stream:
        for line in stream:
            if "json_stats: " in line:
                records.append(json.loads(line.split("json_stats: ", 1)[1]))
    return records


def train_and_save_rank_weights(cfg) -> None:
    """Train, then save this process's final weights to ``OUTPUT_DIR/rank{R}.pt`` (spawn target)."""
    import torch

    from timesformer.utils.distributed import get_rank
    from timesformer.utils.train_state import unwrap_model
    from train_net import train

    model = train(cfg)
    torch.save(unwrap_model(model).state_dict(), os.path.join(cfg.OUTPUT_DIR, f"rank{get_rank()}.pt"))
