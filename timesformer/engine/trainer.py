"""The training loop (the original's ``tools/train_net.py``): train, validate and checkpoint a
TimeSformer model from a config, resuming where an earlier run stopped."""

import math
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import NamedTuple

import torch
from fvcore.common.config import CfgNode

from timesformer.checkpoint import training_state as cu
from timesformer.checkpoint.start_state import load_start_state, prepare_start_state
from timesformer.config.batch import accumulation_steps
from timesformer.datasets import build_loader, shuffle_dataset
from timesformer.datasets.mixup import VideoMixup, build_mixup
from timesformer.engine.console_progress import TrainingProgress, epoch_line
from timesformer.engine.model_ema import ModelEma
from timesformer.engine.training_notes import (
    log_batch_layout,
    log_config,
    log_dropout_note,
    warn_about_schedule,
)
from timesformer.engine.validation import build_val_meter, eval_epoch
from timesformer.errors import TimesformerError
from timesformer.models import build_model
from timesformer.models.flops import log_model_info
from timesformer.models.freezing import set_train_mode
from timesformer.models.losses import build_train_loss
from timesformer.models.optimizer import build_optimizer, set_lr
from timesformer.tracking import Trackers
from timesformer.utils import distributed as du
from timesformer.utils.logging import get_logger, setup_run_logging
from timesformer.utils.lr_policy import get_lr_at_epoch
from timesformer.utils.meters import TrainMeter
from timesformer.utils.metrics import topks_correct
from timesformer.utils.precision import autocast_context, build_grad_scaler
from timesformer.utils.rng import preserved_rng_state, set_seed
from timesformer.visualization.tensorboard_vis import TensorboardWriter

logger = get_logger(__name__)


class NonFiniteLossError(TimesformerError, FloatingPointError):
    """The training loss became NaN or infinite."""


def _check_finite(loss: torch.Tensor, epoch: int, cur_iter: int) -> None:
    if not math.isfinite(loss.item()):
        raise NonFiniteLossError(
            f"Loss is {loss.item()} at epoch {epoch + 1}, iteration {cur_iter + 1}. Try a lower "
            "SOLVER.BASE_LR or a longer SOLVER.WARMUP_EPOCHS, set SOLVER.CLIP_GRAD_L2NORM, "
            "use TRAIN.MIXED_PRECISION_DTYPE bf16 instead of fp16, or check the input data."
        )


def _optimizer_step(model, optimizer, scaler, cfg: CfgNode) -> None:
    if scaler is not None:
        scaler.unscale_(optimizer)
    if cfg.SOLVER.CLIP_GRAD_L2NORM:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.SOLVER.CLIP_GRAD_L2NORM)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


@dataclass(frozen=True)
class TrainingObjective:
    """What training minimizes, built once per run: the loss of a batch and the Mixup / CutMix
    of its clips (None when MIXUP.ENABLED is off)."""

    loss_fn: torch.nn.Module
    mixup: VideoMixup | None

    @classmethod
    def from_cfg(cls, cfg: CfgNode) -> "TrainingObjective":
        return cls(build_train_loss(cfg), build_mixup(cfg))

    def __call__(
        self, model, clips: torch.Tensor, labels: torch.Tensor, cfg: CfgNode
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """clips: (B, 3, T, H, W), labels: (B,) -> scores (B, K) of the (mixed) clips and the
        loss against the (soft) targets, computed under the run's autocast."""
        targets = labels
        if self.mixup is not None:
            clips, targets = self.mixup(clips, labels)
        with autocast_context(cfg):
            scores = model(clips)
            return scores, self.loss_fn(scores, targets)


class _IterationStats(NamedTuple):
    """One training iteration over all processes: mean loss, top-1 / top-5 error (percent; None
    with several labels per clip) and the number of clips."""

    loss: float
    top1_err: float | None
    top5_err: float | None
    clips: int


def _iteration_stats(
    scores: torch.Tensor, labels: torch.Tensor, loss: torch.Tensor
) -> _IterationStats:
    """scores: (B, K), labels: (B,) or multi-hot (B, K) of this process -> the stats of all
    processes."""
    clips = len(labels)
    if labels.ndim == 2:
        loss_sum, count = du.sum_over_processes(loss.item() * clips, clips)
        return _IterationStats(loss_sum / count, None, None, int(count))
    top1, top5 = topks_correct(scores.detach(), labels, (1, 5))
    loss_sum, top1_sum, top5_sum, count = du.sum_over_processes(
        loss.item() * clips, top1.item(), top5.item(), clips
    )
    return _IterationStats(
        loss_sum / count, 100 * (1 - top1_sum / count), 100 * (1 - top5_sum / count), int(count)
    )


def _write_iteration(writer, stats: _IterationStats, optimizer, step: int) -> None:
    """Train/loss, Train/lr (and Train/lr/group_N of each parameter group when their LRs
    differ: SOLVER.LAYER_DECAY), Train/Top1_err and, above 5 classes, Train/Top5_err."""
    rates = [group["lr"] for group in optimizer.param_groups]
    scalars = {"Train/loss": stats.loss, "Train/lr": max(rates)}
    if len(set(rates)) > 1:
        scalars.update({f"Train/lr/group_{i}": rate for i, rate in enumerate(rates)})
    if stats.top1_err is not None and stats.top5_err is not None:
        scalars["Train/Top1_err"] = stats.top1_err
        if writer.top5:
            scalars["Train/Top5_err"] = stats.top5_err
    writer.add_scalars(scalars, step)


def _accumulation_group(cfg: CfgNode, cur_iter: int, epoch_iters: int) -> tuple[int, bool]:
    """(The number of iterations whose gradients the optimizer step of ``cur_iter``'s group
    averages, whether ``cur_iter`` takes that step): groups of ``accumulation_steps(cfg)``, the
    epoch's last one shorter with TRAIN.STEP_ON_EPOCH_REMAINDER."""
    steps = accumulation_steps(cfg)
    group_start = cur_iter - cur_iter % steps
    group_size = steps
    if cfg.TRAIN.STEP_ON_EPOCH_REMAINDER:
        group_size = min(steps, epoch_iters - group_start)
    return group_size, cur_iter + 1 == group_start + group_size


def _gradient_sync(model, is_step: bool) -> AbstractContextManager:
    """DistributedDataParallel's gradient all-reduce only on the iteration that steps."""
    return nullcontext() if is_step or not hasattr(model, "no_sync") else model.no_sync()


def _backward(loss: torch.Tensor, scaler) -> None:
    (scaler.scale(loss) if scaler is not None else loss).backward()


def train_epoch(
    loader,
    model,
    optimizer,
    scaler,
    meter: TrainMeter,
    epoch: int,
    cfg: CfgNode,
    writer=None,
    objective: TrainingObjective | None = None,
    ema: ModelEma | None = None,
    progress: TrainingProgress | None = None,
    trackers: Trackers | None = None,
) -> dict:
    """Train for one epoch with per-iteration LR and gradient accumulation; return epoch stats.

    Each optimizer step averages the gradients of ``accumulation_steps(cfg)`` iterations. The
    iterations left at the end of the epoch, fewer than that, take no step and their gradients
    are dropped, as in the original; with TRAIN.STEP_ON_EPOCH_REMAINDER they take one more step,
    their gradients averaged over their count. ``objective``: the run's (:func:`train`);
    built from ``cfg`` when not given. ``ema``: updated after each optimizer step.
    ``progress``: the console's bar or lines (global rank 0), told of every iteration;
    ``trackers``: the experiment trackers (global rank 0), given the json_stats records.
    """
    set_train_mode(model, cfg)
    meter.reset()
    objective = TrainingObjective.from_cfg(cfg) if objective is None else objective
    device = next(model.parameters()).device
    epoch_iters = len(loader)
    optimizer.zero_grad(set_to_none=True)
    for cur_iter, (clips, labels, _, meta) in enumerate(loader):
        meter.data_loaded()
        clips = clips.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        meter.decode_failures += int(meta["num_decode_failures"].sum())
        lr = get_lr_at_epoch(cfg, epoch + cur_iter / epoch_iters)
        set_lr(optimizer, lr)
        group_size, is_step = _accumulation_group(cfg, cur_iter, epoch_iters)
        with _gradient_sync(model, is_step):
            scores, loss = objective(model, clips, labels, cfg)
            _check_finite(loss, epoch, cur_iter)
            _backward(loss / group_size, scaler)
        if is_step:
            _optimizer_step(model, optimizer, scaler, cfg)
            if ema is not None:
                ema.update(model)
        stats = _iteration_stats(scores, labels, loss)
        meter.update(stats.loss, stats.top1_err, stats.top5_err, lr, stats.clips)
        record = meter.log_iter(epoch, cur_iter)
        if trackers is not None and record is not None:
            trackers.log_record(record)
        if progress is not None:
            progress.update(epoch, cur_iter, meter)
        if writer is not None:
            _write_iteration(writer, stats, optimizer, step=epoch * epoch_iters + cur_iter)
    optimizer.zero_grad(set_to_none=True)  # the epoch's remainder, when it took no step
    meter.decode_failures = int(du.sum_over_processes(meter.decode_failures)[0])
    record = meter.log_epoch(epoch)
    if trackers is not None:
        trackers.log_record(record)
    return record


def _is_period_epoch(epoch: int, period: int, max_epoch: int) -> bool:
    return (epoch + 1) % period == 0 or epoch + 1 == max_epoch


def _build_model_and_optimizer(cfg: CfgNode):
    """The model (logged when LOG_MODEL_INFO), its optimizer and the gradient scaler (None
    without fp16)."""
    model = build_model(cfg)
    if cfg.LOG_MODEL_INFO and du.is_master_proc():
        log_model_info(model, cfg)
    return model, build_optimizer(model, cfg), build_grad_scaler(cfg)


def _start_training_state(cfg: CfgNode, model, optimizer, scaler, ema: ModelEma | None) -> int:
    """Tidy the checkpoint folder (master process), then apply the run's start state; return the
    epoch to start at."""
    if du.is_master_proc():
        cu.tidy_checkpoint_dir(cfg.OUTPUT_DIR, set_aside_unreadable=cfg.TRAIN.AUTO_RESUME)
    du.synchronize()
    return load_start_state(cfg, model, optimizer, scaler, ema)


def _model_to_validate(model, ema: ModelEma | None):
    """The EMA's weights when there is one (said once in the log), else the trained model."""
    if ema is None:
        return model
    logger.info("Validating with the EMA of the weights (MODEL_EMA.ENABLE).")
    return ema.module


def train(cfg: CfgNode) -> torch.nn.Module:
    """Train ``cfg``'s model for SOLVER.MAX_EPOCH epochs, resuming where a previous run stopped
    (the start state: :mod:`timesformer.checkpoint.start_state`).

    Returns the trained model (wrapped as built: DistributedDataParallel when distributed).
    """
    setup_run_logging(cfg)
    set_seed(cfg.RNG_SEED)
    log_config(cfg)
    prepare_start_state(cfg)
    warn_about_schedule(cfg)
    log_dropout_note(cfg)
    logger.info(
        "Building the model (%s, %s attention, depth %d)...",
        cfg.MODEL.MODEL_NAME,
        cfg.TIMESFORMER.ATTENTION_TYPE,
        cfg.TIMESFORMER.DEPTH,
    )
    model, optimizer, scaler = _build_model_and_optimizer(cfg)
    ema = ModelEma.from_cfg(cfg, model)
    start_epoch = _start_training_state(cfg, model, optimizer, scaler, ema)
    model_to_validate = _model_to_validate(model, ema)
    train_loader = build_loader(cfg, "train")
    val_loader = build_loader(cfg, "val")
    log_batch_layout(cfg, len(train_loader))
    objective = TrainingObjective.from_cfg(cfg)
    train_meter = TrainMeter(len(train_loader), cfg)
    val_meter = build_val_meter(cfg)
    trackers, writer, progress = _reporting(cfg, len(train_loader), start_epoch)
    max_epoch = cfg.SOLVER.MAX_EPOCH
    logger.info(
        "Training epochs %d..%d of %d iterations; reading the first batch (%d loader workers)...",
        start_epoch + 1,
        max_epoch,
        len(train_loader),
        cfg.DATA_LOADER.NUM_WORKERS,
    )
    try:
        for epoch in range(start_epoch, max_epoch):
            shuffle_dataset(train_loader, epoch)
            epoch_start = time.monotonic()
            if progress is not None:
                progress.start_epoch(epoch)
            train_stats = train_epoch(
                train_loader,
                model,
                optimizer,
                scaler,
                train_meter,
                epoch,
                cfg,
                writer,
                objective,
                ema,
                progress,
                trackers,
            )
            if progress is not None:
                progress.end_epoch()
            if _is_period_epoch(epoch, cfg.TRAIN.CHECKPOINT_PERIOD, max_epoch):
                cu.save_checkpoint(cfg, model, optimizer, epoch, scaler, ema)
            val_stats = None
            if _is_period_epoch(epoch, cfg.TRAIN.EVAL_PERIOD, max_epoch):
                # Validation draws random numbers too; it must not change training's stream,
                # so that a resumed run continues exactly as an uninterrupted one.
                with preserved_rng_state():
                    val_stats = eval_epoch(
                        val_loader, model_to_validate, val_meter, epoch, cfg, writer
                    )
                if trackers is not None:
                    trackers.log_record(val_stats)
            seconds = time.monotonic() - epoch_start
            logger.info(epoch_line(cfg, train_stats, val_stats, train_meter, seconds))
            if writer is not None:
                writer.write_train_epoch(train_stats, train_meter, epoch)
        if trackers is not None:
            _log_last_checkpoint(cfg, trackers)
    finally:
        if progress is not None:
            progress.end_epoch()
        if writer is not None:
            writer.close()
        if trackers is not None:
            trackers.close()
    return model


def _reporting(
    cfg: CfgNode, epoch_iters: int, start_epoch: int
) -> tuple[Trackers | None, TensorboardWriter | None, TrainingProgress | None]:
    """What shows the run, on global rank 0 (Nones on the others): its experiment trackers
    (MLFLOW.ENABLE, WANDB.ENABLE; given the config), its TensorBoard writer
    (TENSORBOARD.ENABLE; its figures go to the trackers too) and the console's progress."""
    if not du.is_master_proc():
        return None, None, None
    trackers = Trackers.open(cfg)
    trackers.log_config(cfg)
    writer = TensorboardWriter(cfg, trackers) if cfg.TENSORBOARD.ENABLE else None
    return trackers, writer, TrainingProgress(cfg, epoch_iters, start_epoch)


def _log_last_checkpoint(cfg: CfgNode, trackers: Trackers) -> None:
    """The last checkpoint, to the trackers that keep it (MLFLOW.LOG_CHECKPOINT...)."""
    checkpoint = cu.get_last_checkpoint(cfg.OUTPUT_DIR)
    if checkpoint is not None:
        trackers.log_checkpoint(checkpoint)
