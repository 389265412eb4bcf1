"""Batch sizes a config implies, each computed here once.

``TRAIN.BATCH_SIZE`` / ``TEST.BATCH_SIZE`` are the items (training videos, test views) one
machine loads per iteration, shared by its processes (one per GPU, or NUM_PROCS on the CPU).
A training video gives DATA.TRAIN_CROP_NUM_TEMPORAL clips (1 by default), so over the job's
NUM_SHARDS machines a training iteration takes NUM_SHARDS x TRAIN.BATCH_SIZE x
DATA.TRAIN_CROP_NUM_TEMPORAL clips; gradients of several iterations are accumulated until an
optimizer step has seen GLOBAL_BATCH_SIZE clips, as the original code does.
"""

from fvcore.common.config import CfgNode


def processes_per_machine(cfg: CfgNode) -> int:
    """Training processes on one machine: one per GPU, or NUM_PROCS on the CPU."""
    return cfg.NUM_GPUS if cfg.NUM_GPUS > 0 else cfg.NUM_PROCS


def process_batch_size(cfg: CfgNode, split: str) -> int:
    """Items one process loads per iteration of ``split`` ("train", "val" or "test"): the
    machine's TRAIN.BATCH_SIZE (TEST.BATCH_SIZE for "test") shared by its processes. An item
    is one clip, except in training with DATA.TRAIN_CROP_NUM_TEMPORAL K > 1: a video of K
    clips."""
    machine_batch = cfg.TEST.BATCH_SIZE if split == "test" else cfg.TRAIN.BATCH_SIZE
    return max(machine_batch // processes_per_machine(cfg), 1)


def iteration_batch_size(cfg: CfgNode) -> int:
    """Clips one training iteration takes over the whole job: NUM_SHARDS x TRAIN.BATCH_SIZE x
    DATA.TRAIN_CROP_NUM_TEMPORAL (clips per video)."""
    return cfg.NUM_SHARDS * cfg.TRAIN.BATCH_SIZE * cfg.DATA.TRAIN_CROP_NUM_TEMPORAL


def accumulation_steps(cfg: CfgNode) -> int:
    """Training iterations whose gradients one optimizer step averages, so that the step sees
    GLOBAL_BATCH_SIZE clips (1 when an iteration already takes that many or more)."""
    return max(1, cfg.GLOBAL_BATCH_SIZE // iteration_batch_size(cfg))


def optimizer_step_batch_size(cfg: CfgNode) -> int:
    """Clips one optimizer step sees: the iteration's clips times the accumulated iterations."""
    return iteration_batch_size(cfg) * accumulation_steps(cfg)


def views_per_video(cfg: CfgNode) -> int:
    """Test views of one video, the items a test loader yields per video: TEST.NUM_ENSEMBLE_VIEWS
    temporal clips x TEST.NUM_SPATIAL_CROPS spatial crops."""
    return cfg.TEST.NUM_ENSEMBLE_VIEWS * cfg.TEST.NUM_SPATIAL_CROPS
