"""Training state (the original's ``cu``): atomic saving, finding the last complete checkpoint
(auto-resume), exact resume with the random state of every process, and which weights a test
uses.

A checkpoint ``OUTPUT_DIR/checkpoints/checkpoint_epoch_NNNNN.pyth`` (NNNNN = the
1-based number of the epoch it ends) holds ``epoch`` (0-based, completed),
``model_state``, ``optimizer_state``, ``scaler_state``, ``cfg`` (YAML text) and
``rng_states`` (one per process), which is all an exact resume needs; with MODEL_EMA also
``model_ema_state`` (the EMA of the weights, names as ``model_state``'s) and ``model_ema_updates``
(the optimizer steps it has folded in).
"""

import os
import re
import zipfile

import torch
from fvcore.common.config import CfgNode

from timesformer.checkpoint.files import (
    Checkpoint,
    CheckpointError,
    read_checkpoint,
    read_checkpoint_file,
)
from timesformer.config.checks import ConfigError
from timesformer.utils import distributed as du
from timesformer.utils.file_io import DiskFullError, atomic_write, remove_stale_partial_files
from timesformer.utils.logging import get_logger
from timesformer.utils.rng import get_rng_state, set_rng_state

logger = get_logger(__name__)

CHECKPOINT_SUBDIR = "checkpoints"
UNREADABLE_SUFFIX = ".unreadable"
_CHECKPOINT_NAME = re.compile(r"^checkpoint_epoch_(\d{5})\.pyth$")
EMA_STATE_KEY = "model_ema_state"
EMA_UPDATES_KEY = "model_ema_updates"


def get_checkpoint_dir(output_dir: str) -> str:
    """``output_dir/checkpoints``."""
    return os.path.join(output_dir, CHECKPOINT_SUBDIR)


def get_path_to_checkpoint(output_dir: str, epoch: int) -> str:
    """Path of the checkpoint written after 0-based ``epoch``."""
    return os.path.join(get_checkpoint_dir(output_dir), f"checkpoint_epoch_{epoch + 1:05d}.pyth")


def list_checkpoints(output_dir: str) -> list[str]:
    """Checkpoint paths in ``output_dir/checkpoints``, oldest epoch first (temporary files
    ignored)."""
    folder = get_checkpoint_dir(output_dir)
    if not os.path.isdir(folder):
        return []
    names = sorted(name for name in os.listdir(folder) if _CHECKPOINT_NAME.match(name))
    return [os.path.join(folder, name) for name in names]


def _unreadable_reason(path: str) -> str | None:
    """None when ``path`` is a training checkpoint that loads, else why not (its tensors are
    mapped, not read, so that checking a large checkpoint costs little)."""
    try:
        state = read_checkpoint_file(path, mmap=True)
    except CheckpointError as error:
        if not zipfile.is_zipfile(path):
            return "not the zip archive torch.save writes (cut short, damaged, or another format)"
        return error.reason
    if isinstance(state, dict) and "model_state" in state and "epoch" in state:
        return None
    return "not a training checkpoint (no model_state/epoch)"


def get_last_checkpoint(output_dir: str) -> str | None:
    """The newest checkpoint that loads, skipping (with a warning) any that does not."""
    for path in reversed(list_checkpoints(output_dir)):
        reason = _unreadable_reason(path)
        if reason is None:
            return path
        logger.warning("Skipping unreadable checkpoint %s: %s", path, reason)
    return None


def set_aside_unreadable_checkpoints(output_dir: str) -> list[str]:
    """Rename the checkpoints newer than the last readable one (all, when none reads) to
    ``NAME.unreadable``, so that training, which starts after the last readable one, never
    overwrites them; log each loudly. Returns the new paths. Call from one process only."""
    moved = []
    for path in reversed(list_checkpoints(output_dir)):
        reason = _unreadable_reason(path)
        if reason is None:
            break
        target = path + UNREADABLE_SUFFIX
        while os.path.exists(target):
            target += UNREADABLE_SUFFIX
        os.replace(path, target)
        logger.error("Checkpoint %s cannot be read (%s); kept as %s.", path, reason, target)
        moved.append(target)
    if moved:
        last = get_last_checkpoint(output_dir)
        logger.error(
            "%d unreadable checkpoint(s) set aside in %s; %s",
            len(moved),
            get_checkpoint_dir(output_dir),
            f"resuming from {last}."
            if last
            else "NO checkpoint is left: training starts over "
            "from epoch 1 (stop now and restore a checkpoint to resume instead).",
        )
    return moved


def tidy_checkpoint_dir(output_dir: str, set_aside_unreadable: bool = True) -> None:
    """Before training: delete the temporary files that killed writes left in OUTPUT_DIR and its
    checkpoint folder, and (``set_aside_unreadable``, for a resume)
    :func:`set_aside_unreadable_checkpoints`."""
    for folder in (output_dir, get_checkpoint_dir(output_dir)):
        for path in remove_stale_partial_files(folder):
            logger.info("Removed %s, left by an interrupted write.", path)
    if set_aside_unreadable:
        set_aside_unreadable_checkpoints(output_dir)


def _all_rng_states() -> list[dict]:
    """The random states of every process, by rank (see :func:`get_rng_state`)."""
    if not du.is_distributed():
        return [get_rng_state()]
    states: list[dict] = [{} for _ in range(du.get_world_size())]
    torch.distributed.all_gather_object(states, get_rng_state())
    return states


def save_checkpoint(
    cfg: CfgNode, model, optimizer, epoch: int, scaler=None, ema=None
) -> str | None:
    """Save the training state after 0-based ``epoch`` (and ``ema``'s,
    :class:`~timesformer.engine.model_ema.ModelEma`); every process must call it.

    Only the master process writes; returns the path there, None elsewhere.
    """
    rng_states = _all_rng_states()
    if not du.is_master_proc():
        return None
    path = get_path_to_checkpoint(cfg.OUTPUT_DIR, epoch)
    state = {
        "epoch": epoch,
        "model_state": du.unwrap_model(model).state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "scaler_state": scaler.state_dict() if scaler is not None else None,
        "cfg": cfg.dump(),
        "rng_states": rng_states,
    }
    if ema is not None:
        state.update(ema.checkpoint_entries())
    try:
        with atomic_write(path) as stream:
            torch.save(state, stream)
    except DiskFullError as error:
        raise DiskFullError(
            f"{error} Free space for OUTPUT_DIR {cfg.OUTPUT_DIR} (or move it), then run again to "
            "resume from its last checkpoint."
        ) from error
    logger.info("Saved checkpoint %s", path)
    return path


def _restore_rng(state: dict) -> None:
    states = state.get("rng_states") or []
    if len(states) == du.get_world_size():
        set_rng_state(states[du.get_rank()])
    else:
        logger.warning(
            "Checkpoint holds random states of %d process(es), this run has %d: "
            "random streams restart from the seed.",
            len(states),
            du.get_world_size(),
        )


def _load_own_model_state(model, checkpoint: Checkpoint) -> None:
    try:
        du.unwrap_model(model).load_state_dict(checkpoint.model_state, strict=True)
    except RuntimeError as error:
        details = "; ".join(line.strip()[:200] for line in str(error).splitlines()[1:4])
        raise CheckpointError(
            f"Cannot resume from {checkpoint.path}: its weights do not fit the configured model "
            "(was the model config changed since it was written? Use another OUTPUT_DIR, or "
            f"TRAIN.AUTO_RESUME False to start over). {details}"
        ) from error


def _load_own_optimizer_state(optimizer, checkpoint: Checkpoint) -> None:
    try:
        optimizer.load_state_dict(checkpoint.extras["optimizer_state"])
    except ValueError as error:
        raise CheckpointError(
            f"Cannot resume from {checkpoint.path}: its optimizer state does not fit this run's "
            f"optimizer ({error}). Were SOLVER.OPTIMIZING_METHOD, SOLVER.LAYER_DECAY, "
            "SOLVER.ZERO_WD_1D_PARAM, TRAIN.LINEAR_PROBE or TRAIN.FREEZE_BLOCKS changed since it "
            "was written? Use another OUTPUT_DIR, or TRAIN.AUTO_RESUME False to start over."
        ) from error


def resume_training_state(checkpoint: Checkpoint, model, optimizer, scaler=None, ema=None) -> int:
    """Restore model, optimizer, scaler, ``ema`` (:class:`~timesformer.engine.model_ema.ModelEma`)
    and random state from a training checkpoint (read once,
    :func:`~timesformer.checkpoint.files.read_checkpoint`); return the next epoch.

    Raises:
        CheckpointError: its weights do not fit ``model``.
    """
    state = checkpoint.extras
    _load_own_model_state(model, checkpoint)
    if optimizer is not None and state.get("optimizer_state"):
        _load_own_optimizer_state(optimizer, checkpoint)
    if scaler is not None and state.get("scaler_state"):
        scaler.load_state_dict(state["scaler_state"])
    if ema is not None:
        ema.resume(state, checkpoint.path, model)
    _restore_rng(state)
    logger.info("Resumed from %s (epoch %d done).", checkpoint.path, state["epoch"] + 1)
    return state["epoch"] + 1


def load_optimizer_state(checkpoint: Checkpoint, optimizer) -> int:
    """Restore the optimizer state a training checkpoint holds (when it fits this optimizer;
    otherwise it starts afresh, with a warning); return the epoch after the one the checkpoint
    ends (0 for a file without an epoch, such as released weights)."""
    state = checkpoint.extras
    if "epoch" not in state:
        return 0
    if state.get("optimizer_state"):
        try:
            optimizer.load_state_dict(state["optimizer_state"])
        except ValueError as error:
            logger.warning(
                "Optimizer state of %s does not fit this optimizer (%s); starting it afresh.",
                checkpoint.path,
                error,
            )
    return state["epoch"] + 1


def ema_weights(checkpoint: Checkpoint) -> Checkpoint:
    """``checkpoint`` with its EMA weights (MODEL_EMA) as its model weights.

    Raises:
        CheckpointError: it holds none (not a training checkpoint written with MODEL_EMA).
    """
    ema_state = checkpoint.extras.get(EMA_STATE_KEY)
    if ema_state is None:
        raise CheckpointError(
            f"{checkpoint.path} holds no EMA weights (only training checkpoints written with "
            "MODEL_EMA.ENABLE do).",
            "it holds no EMA weights",
        )
    extras = {key: value for key, value in checkpoint.extras.items() if key != EMA_STATE_KEY}
    return Checkpoint(checkpoint.path, ema_state, extras)


def read_weights_to_evaluate(path: str, use_ema: bool) -> Checkpoint:
    """The checkpoint at ``path`` with the weights to evaluate: with ``use_ema``
    (MODEL_EMA.ENABLE), its EMA weights (:func:`ema_weights`) when it holds them, else its model
    weights (with a warning). Says which in the log.

    Raises:
        CheckpointError: as :func:`~timesformer.checkpoint.files.read_checkpoint`.
    """
    checkpoint = read_checkpoint(path)
    if not use_ema:
        return checkpoint
    try:
        averaged = ema_weights(checkpoint)
    except CheckpointError:
        logger.warning(
            "MODEL_EMA.ENABLE is set but %s holds no EMA weights: evaluating its model weights.",
            path,
        )
        return checkpoint
    logger.info("Evaluating the EMA weights of %s (MODEL_EMA.ENABLE).", path)
    return averaged


def weights_to_test(cfg: CfgNode) -> str:
    """The weights to test: TEST.CHECKPOINT_FILE_PATH, else OUTPUT_DIR's last checkpoint, else
    TRAIN.CHECKPOINT_FILE_PATH.

    Raises:
        ConfigError: none of them, naming the keys and the folder looked in.
    """
    path = (
        cfg.TEST.CHECKPOINT_FILE_PATH
        or get_last_checkpoint(cfg.OUTPUT_DIR)
        or cfg.TRAIN.CHECKPOINT_FILE_PATH
    )
    if not path:
        raise ConfigError(
            "No weights to test: TEST.CHECKPOINT_FILE_PATH is empty, "
            f"{get_checkpoint_dir(cfg.OUTPUT_DIR)} "
            "holds no checkpoint and TRAIN.CHECKPOINT_FILE_PATH is empty. "
            "Set TEST.CHECKPOINT_FILE_PATH "
            "to a checkpoint (.pyth) or train first."
        )
    return path
