"""The training loop (the original's ``tools/train_net.py``): train, validate and checkpoint a
TimeSformer model from a config, resuming where an earlier run stopped."""

import math
from contextlib import nullcontext

import torch
from fvcore.common.config import CfgNode

from timesformer.config import ConfigError
from timesformer.config.batch import (
    accumulation_steps,
    iteration_batch_size,
    optimizer_step_batch_size,
)
from timesformer.datasets import construct_loader, shuffle_dataset
from timesformer.datasets.mixup import build_mixup
from timesformer.models import build_model
from timesformer.models.flops import log_model_info
from timesformer.models.imagenet_weights import (
    ORIGINAL_IMAGENET_WEIGHTS,
    RANDOM_INIT,
    fetch_imagenet_weights,
    imagenet_weights_source,
    load_pretrained_imagenet,
    local_imagenet_weights,
)
from timesformer.models.losses import build_train_loss
from timesformer.models.optimizer import construct_optimizer, set_lr
from timesformer.models.weight_files import CheckpointError
from timesformer.models.weights import load_model_weights
from timesformer.utils import checkpoint as cu
from timesformer.utils import distributed as du
from timesformer.utils.logging import get_logger, setup_logging
from timesformer.utils.lr_policy import get_lr_at_epoch
from timesformer.utils.meters import TrainMeter, ValMeter
from timesformer.utils.metrics import topks_correct
from timesformer.utils.precision import autocast_context, build_grad_scaler
from timesformer.utils.rng import preserved_rng_state, set_seed
from timesformer.visualization.eval_figures import PredictionCollector
from timesformer.visualization.tensorboard_vis import TensorboardWriter

logger = get_logger(__name__)


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def _check_finite(loss: torch.Tensor, epoch: int, cur_iter: int) -> None:
    if not math.isfinite(loss.item()):
        raise NonFiniteLossError(
            f"Loss is {loss.item()} at epoch {epoch + 1}, iteration {cur_iter + 1}. Try a lower "
            "SOLVER.BASE_LR or a longer SOLVER.WARMUP_EPOCHS, set SOLVER.CLIP_GRAD_L2NORM, "
            "use TRAIN.MIXED_PRECISION_DTYPE bf16 instead of fp16, or check the input data."
        )


def _sum_over_processes(*values: float) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64)
    if du.is_distributed() and torch.distributed.get_backend() == "nccl":
        tensor = tensor.cuda()
    du.all_reduce([tensor], average=False)
    return tensor.cpu().tolist()


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


def train_epoch(
    loader, model, optimizer, scaler, meter: TrainMeter, epoch: int, cfg: CfgNode, writer=None
) -> dict:
    """Train for one epoch with per-iteration LR and gradient accumulation; return epoch stats.

    Each optimizer step averages the gradients of ``accumulation_steps(cfg)`` iterations. The
    iterations left at the end of the epoch, fewer than that, take no step and their gradients
    are dropped, as in the original; with TRAIN.STEP_ON_EPOCH_REMAINDER they take one more step,
    their gradients averaged over their count.
    """
    model.train()
    meter.reset()
    loss_fn = build_train_loss(cfg)
    mixup = build_mixup(cfg)
    device = next(model.parameters()).device
    steps = accumulation_steps(cfg)
    epoch_iters = len(loader)
    optimizer.zero_grad(set_to_none=True)
    for cur_iter, (clips, labels, _, meta) in enumerate(loader):
        meter.data_loaded()
        clips = clips.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        meter.decode_failures += int(meta["num_decode_failures"].sum())
        lr = get_lr_at_epoch(cfg, epoch + cur_iter / epoch_iters)
        set_lr(optimizer, lr)
        group_start = cur_iter - cur_iter % steps
        group_size = steps
        if cfg.TRAIN.STEP_ON_EPOCH_REMAINDER:
            group_size = min(steps, epoch_iters - group_start)
        is_step = cur_iter + 1 == group_start + group_size
        targets = labels
        if mixup is not None:
            clips, targets = mixup(clips, labels)
        sync = nullcontext() if is_step or not hasattr(model, "no_sync") else model.no_sync()
        with sync:
            with autocast_context(cfg):
                scores = model(clips)
                loss = loss_fn(scores, targets)
            _check_finite(loss, epoch, cur_iter)
            backward_loss = loss / group_size
            (scaler.scale(backward_loss) if scaler is not None else backward_loss).backward()
        if is_step:
            _optimizer_step(model, optimizer, scaler, cfg)
        top1, top5 = topks_correct(scores.detach(), labels, (1, 5))
        loss_sum, top1_sum, top5_sum, count = _sum_over_processes(
            loss.item() * labels.numel(), top1.item(), top5.item(), labels.numel()
        )
        meter.update(
            loss_sum / count,
            100 * (1 - top1_sum / count),
            100 * (1 - top5_sum / count),
            lr,
            int(count),
        )
        meter.log_iter(epoch, cur_iter)
        if writer is not None:
            step = epoch * epoch_iters + cur_iter
            writer.add_scalars(
                {
                    "Train/loss": loss_sum / count,
                    "Train/lr": lr,
                    "Train/Top1_err": 100 * (1 - top1_sum / count),
                    "Train/Top5_err": 100 * (1 - top5_sum / count),
                },
                step,
            )
    optimizer.zero_grad(set_to_none=True)  # the epoch's remainder, when it took no step
    meter.decode_failures = int(_sum_over_processes(meter.decode_failures)[0])
    return meter.log_epoch(epoch)


@torch.inference_mode()
def eval_epoch(loader, model, meter: ValMeter, epoch: int, cfg: CfgNode, writer=None) -> dict:
    """Validate on one view per video; return the epoch stats."""
    model.eval()
    meter.reset()
    device = next(model.parameters()).device
    predictions = PredictionCollector(cfg)
    for clips, labels, _, meta in loader:
        clips = clips.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        meter.decode_failures += int(meta["num_decode_failures"].sum())
        with autocast_context(cfg):
            scores = model(clips)
        top1, top5 = topks_correct(scores.float(), labels, (1, 5))
        top1_sum, top5_sum, count = _sum_over_processes(top1.item(), top5.item(), labels.numel())
        meter.update(int(top1_sum), int(top5_sum), int(count))
        predictions.add(scores, labels)
    meter.decode_failures = int(_sum_over_processes(meter.decode_failures)[0])
    stats = meter.log_epoch(epoch)
    all_predictions = predictions.gather()
    if writer is not None:
        writer.add_scalars(
            {"Val/Top1_err": stats["top1_err"], "Val/Top5_err": stats["top5_err"]}, epoch
        )
        if all_predictions is not None:
            writer.plot_eval(*all_predictions, global_step=epoch, split="Val")
    return stats


def load_start_state(cfg: CfgNode, model, optimizer, scaler=None) -> int:
    """Initialize training from a checkpoint when there is one; return the epoch to start at.

    1. TRAIN.AUTO_RESUME and a checkpoint in OUTPUT_DIR: exact resume from the last one.
    2. TRAIN.CHECKPOINT_FILE_PATH with TRAIN.FINETUNE: weights only (the head is
       re-initialized when MODEL.NUM_CLASSES differs), from epoch 0.
    3. TRAIN.CHECKPOINT_FILE_PATH without it: weights, and the optimizer state and
       epoch when the file has them (epoch 0 with TRAIN.CHECKPOINT_EPOCH_RESET).
    4. Otherwise, training starts from nothing: the ImageNet weights of
       TIMESFORMER.PRETRAINED_MODEL (the original's by default; none with "none"), epoch 0.
    """
    last = _checkpoint_to_resume(cfg)
    if last is not None:
        return cu.resume_training_state(last, model, optimizer, scaler)
    path = cfg.TRAIN.CHECKPOINT_FILE_PATH
    if not path:
        imagenet_weights = imagenet_weights_source(cfg.TIMESFORMER.PRETRAINED_MODEL)
        if imagenet_weights is not None:
            load_pretrained_imagenet(model, imagenet_weights)
        return 0
    prefixes = tuple(cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN)
    load_model_weights(
        model, path, reset_head_if_mismatch=cfg.TRAIN.FINETUNE, clear_prefixes=prefixes
    )
    if cfg.TRAIN.FINETUNE or cfg.TRAIN.CHECKPOINT_EPOCH_RESET:
        return 0
    return cu.load_optimizer_state(path, optimizer)


def _checkpoint_to_resume(cfg: CfgNode) -> str | None:
    return cu.get_last_checkpoint(cfg.OUTPUT_DIR) if cfg.TRAIN.AUTO_RESUME else None


# The model size the original's ImageNet weights (ViT-Base/16) fit.
_VIT_BASE_SIZE = {"EMBED_DIM": 768, "DEPTH": 12, "NUM_HEADS": 12, "MLP_RATIO": 4.0}


def prepare_imagenet_weights(cfg: CfgNode) -> None:
    """Pre-flight of a training run, before its processes start and before any data is read:
    when it will train from nothing (:func:`load_start_state` case 4), make sure the ImageNet
    weights of TIMESFORMER.PRETRAINED_MODEL load without the network, downloading timm's into
    its cache once, here, rather than in every process. Nothing else ever fetches them.

    Raises:
        CheckpointError: one line naming TIMESFORMER.PRETRAINED_MODEL, the weights and the ways
            out: the weights are not there and cannot be downloaded, or the original's
            ViT-Base/16 weights do not fit the configured model size.
    """
    source = imagenet_weights_source(cfg.TIMESFORMER.PRETRAINED_MODEL)
    if source is None or not cfg.TRAIN.ENABLE or cfg.TRAIN.CHECKPOINT_FILE_PATH:
        return
    misfit = source == ORIGINAL_IMAGENET_WEIGHTS and _vit_base_misfit(cfg)
    if not misfit and local_imagenet_weights(source) is not None:
        return  # ready; no need to look for a checkpoint to resume from
    if _checkpoint_to_resume(cfg) is not None:
        return
    if misfit:
        raise CheckpointError(
            f"TIMESFORMER.PRETRAINED_MODEL '' loads the original's ImageNet weights "
            f"({ORIGINAL_IMAGENET_WEIGHTS}, a ViT-Base/16), which do not fit this model "
            f"({misfit}); set TIMESFORMER.PRETRAINED_MODEL to weights of this size, or to "
            f"{RANDOM_INIT!r} for random initialization."
        )
    fetch_imagenet_weights(source)


def _vit_base_misfit(cfg: CfgNode) -> str:
    """The model-size keys whose values differ from ViT-Base/16's, as ``KEY value, ...``."""
    return ", ".join(
        f"TIMESFORMER.{key} {cfg.TIMESFORMER[key]}"
        for key, value in _VIT_BASE_SIZE.items()
        if cfg.TIMESFORMER[key] != value
    )


def _log_epoch_remainder(cfg: CfgNode, epoch_iters: int) -> None:
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


def _is_period_epoch(epoch: int, period: int, max_epoch: int) -> bool:
    return (epoch + 1) % period == 0 or epoch + 1 == max_epoch


def train(cfg: CfgNode) -> torch.nn.Module:
    """Train ``cfg``'s model for SOLVER.MAX_EPOCH epochs, resuming where a previous run stopped.

    Returns the trained model (wrapped as built: DistributedDataParallel when distributed).
    """
    setup_logging(cfg.OUTPUT_DIR)
    set_seed(cfg.RNG_SEED)
    logger.info("Training with config:\n%s", cfg.dump())
    prepare_imagenet_weights(cfg)
    if cfg.MODEL.DROPOUT_RATE > 0:
        logger.info(
            "MODEL.DROPOUT_RATE %s is not applied, as in the original code; "
            "MODEL.HEAD_DROPOUT_RATE (%s) is the head dropout.",
            cfg.MODEL.DROPOUT_RATE,
            cfg.MODEL.HEAD_DROPOUT_RATE,
        )
    model = build_model(cfg)
    if cfg.LOG_MODEL_INFO and du.is_master_proc():
        log_model_info(model, cfg)
    optimizer = construct_optimizer(model, cfg)
    scaler = build_grad_scaler(cfg)
    if du.is_master_proc():
        cu.tidy_checkpoint_dir(cfg.OUTPUT_DIR, set_aside_unreadable=cfg.TRAIN.AUTO_RESUME)
    du.synchronize()
    start_epoch = load_start_state(cfg, model, optimizer, scaler)
    train_loader = construct_loader(cfg, "train")
    val_loader = construct_loader(cfg, "val")
    logger.info(
        "Effective batch: %d samples per optimizer step "
        "(%d per iteration x %d accumulated iterations).",
        optimizer_step_batch_size(cfg),
        iteration_batch_size(cfg),
        accumulation_steps(cfg),
    )
    _log_epoch_remainder(cfg, len(train_loader))
    if cfg.DATA.TRAIN_CROP_NUM_TEMPORAL > 1:
        logger.info(
            "Each of the %d videos of an iteration gives %d clips "
            "(DATA.TRAIN_CROP_NUM_TEMPORAL), read in one decoding pass.",
            cfg.NUM_SHARDS * cfg.TRAIN.BATCH_SIZE,
            cfg.DATA.TRAIN_CROP_NUM_TEMPORAL,
        )
    train_meter = TrainMeter(len(train_loader), cfg)
    val_meter = ValMeter(cfg)
    writer = TensorboardWriter(cfg) if cfg.TENSORBOARD.ENABLE and du.is_master_proc() else None
    logger.info("Start epoch: %d", start_epoch + 1)
    try:
        for epoch in range(start_epoch, cfg.SOLVER.MAX_EPOCH):
            shuffle_dataset(train_loader, epoch)
            train_epoch(train_loader, model, optimizer, scaler, train_meter, epoch, cfg, writer)
            if _is_period_epoch(epoch, cfg.TRAIN.CHECKPOINT_PERIOD, cfg.SOLVER.MAX_EPOCH):
                cu.save_checkpoint(cfg, model, optimizer, epoch, scaler)
            if _is_period_epoch(epoch, cfg.TRAIN.EVAL_PERIOD, cfg.SOLVER.MAX_EPOCH):
                # Validation draws random numbers too; it must not change training's stream,
                # so that a resumed run continues exactly as an uninterrupted one.
                with preserved_rng_state():
                    eval_epoch(val_loader, model, val_meter, epoch, cfg, writer)
    finally:
        if writer is not None:
            writer.close()
    return model
