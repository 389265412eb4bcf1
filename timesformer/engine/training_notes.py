"""What a training run says before its first iteration: where its config is, the schedule's
and dropout's surprises, and the batch an optimizer step takes."""

import os

from fvcore.common.config import CfgNode

from timesformer.config import ConfigError
from timesformer.config.batch import (
    accumulation_steps,
    iteration_batch_size,
    optimizer_step_batch_size,
)
from timesformer.utils.logging import FILE_ONLY, LOG_FILE_NAME, get_logger
from timesformer.utils.lr_policy import schedule_warning

logger = get_logger(__name__)


def log_epoch_remainder(cfg: CfgNode, epoch_iters: int) -> None:
    """Say how many iterations of each epoch take no optimizer step (:func:`train_epoch`).

    Raises:
        ConfigError: no iteration would ever step (an epoch shorter than one accumulation).
    """
    steps = accumulation_steps(cfg)
    remainder = epoch_iters % steps
    if not remainder or cfg.TRAIN.STEP_ON_EPOCH_REMAINDER:
        return
    if epoch_iters < steps:
        raise ConfigError(
            f"An epoch has {epoch_iters} iteration(s), fewer than the {steps} that one optimizer "
            f"step accumulates (GLOBAL_BATCH_SIZE {cfg.GLOBAL_BATCH_SIZE}), so no step would ever "
            "be taken: lower GLOBAL_BATCH_SIZE, or set TRAIN.STEP_ON_EPOCH_REMAINDER True."
        )
    logger.info(
        "The last %d of each epoch's %d iterations take no optimizer step (fewer than the %d one "
        "accumulates): their gradients are dropped, as in the original "
        "(TRAIN.STEP_ON_EPOCH_REMAINDER True steps on them).",
        remainder,
        epoch_iters,
        steps,
    )


def warn_about_schedule(cfg: CfgNode) -> None:
    warning = schedule_warning(cfg)
    if warning is not None:
        logger.warning(warning)


def log_dropout_note(cfg: CfgNode) -> None:
    if cfg.MODEL.DROPOUT_RATE > 0:
        logger.info(
            "MODEL.DROPOUT_RATE %s is not applied, as in the original code; "
            "MODEL.HEAD_DROPOUT_RATE (%s) is the head dropout.",
            cfg.MODEL.DROPOUT_RATE,
            cfg.MODEL.HEAD_DROPOUT_RATE,
        )


def log_batch_layout(cfg: CfgNode, epoch_iters: int) -> None:
    """Say how many samples an optimizer step takes, which iterations take none, and how many
    clips each video gives."""
    logger.info(
        "Effective batch: %d samples per optimizer step "
        "(%d per iteration x %d accumulated iterations).",
        optimizer_step_batch_size(cfg),
        iteration_batch_size(cfg),
        accumulation_steps(cfg),
    )
    log_epoch_remainder(cfg, epoch_iters)
    if cfg.DATA.TRAIN_CROP_NUM_TEMPORAL > 1:
        logger.info(
            "Each of the %d videos of an iteration gives %d clips "
            "(DATA.TRAIN_CROP_NUM_TEMPORAL), read in one decoding pass.",
            cfg.NUM_SHARDS * cfg.TRAIN.BATCH_SIZE,
            cfg.DATA.TRAIN_CROP_NUM_TEMPORAL,
        )


def log_config(cfg: CfgNode) -> None:
    """The whole config in stdout.log (and on the console with CONSOLE.PROGRESS "json"); on
    the console, one line naming where it is."""
    logger.info("Training with config:\n%s", cfg.dump(), extra=FILE_ONLY)
    if cfg.CONSOLE.PROGRESS != "json":
        config = os.path.join(cfg.OUTPUT_DIR, "config.yaml")
        log = os.path.join(cfg.OUTPUT_DIR, LOG_FILE_NAME)
        logger.info("Config: %s (and in full in %s)", config, log)
