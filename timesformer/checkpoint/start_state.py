"""The start-state policy: where a training run's weights, optimizer state and first epoch come
from, decided in one place (:func:`decide_start_state`) for the pre-flight that fetches what the
decision needs before any process starts (:func:`prepare_start_state`) and for the trainer that
applies it (:func:`load_start_state`).

The decision, first that applies:

1. :data:`RESUME`: TRAIN.AUTO_RESUME and a checkpoint in OUTPUT_DIR: exact resume from the last
   one that reads.
2. :data:`CHECKPOINT`: TRAIN.CHECKPOINT_FILE_PATH. With TRAIN.FINETUNE, its weights only (the
   head re-initialized when MODEL.NUM_CLASSES differs), from epoch 0; without, its weights and,
   when the file has them, its optimizer state and epoch (epoch 0 and a fresh optimizer with
   TRAIN.CHECKPOINT_EPOCH_RESET).
3. :data:`IMAGENET`: the ImageNet weights of TIMESFORMER.PRETRAINED_MODEL (the original's by
   default), from epoch 0.
4. :data:`RANDOM`: TIMESFORMER.PRETRAINED_MODEL "none": the model as built, from epoch 0.
"""

from dataclasses import dataclass

from fvcore.common.config import CfgNode
from torch import nn

from timesformer.checkpoint.files import CheckpointError, read_checkpoint
from timesformer.checkpoint.formats import load_model_weights
from timesformer.checkpoint.imagenet import (
    ORIGINAL_IMAGENET_WEIGHTS,
    RANDOM_INIT,
    fetch_imagenet_weights,
    imagenet_weights_source,
    load_pretrained_imagenet,
)
from timesformer.checkpoint.training_state import (
    get_last_checkpoint,
    load_optimizer_state,
    resume_training_state,
)
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

RESUME, CHECKPOINT, IMAGENET, RANDOM = "resume", "checkpoint", "imagenet", "random"
_DESCRIPTIONS = {
    RESUME: "an exact resume from {source}",
    CHECKPOINT: "the weights of {source}",
    IMAGENET: "the ImageNet weights {source}",
    RANDOM: "random initialization",
}


@dataclass(frozen=True)
class StartState:
    """Where a training run starts from, as :func:`decide_start_state` decided it.

    ``kind``: :data:`RESUME`, :data:`CHECKPOINT`, :data:`IMAGENET` or :data:`RANDOM`.
    ``source``: the checkpoint file (RESUME, CHECKPOINT) or the ImageNet weights (a file or a
    timm model name); None for RANDOM. For CHECKPOINT only: ``finetune`` (the head is
    re-initialized when the classes differ), ``restores_optimizer_and_epoch`` (neither
    TRAIN.FINETUNE nor TRAIN.CHECKPOINT_EPOCH_RESET) and ``clear_prefixes``
    (TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN).
    """

    kind: str
    source: str | None = None
    finetune: bool = False
    restores_optimizer_and_epoch: bool = False
    clear_prefixes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return _DESCRIPTIONS[self.kind].format(source=self.source)


def decide_start_state(cfg: CfgNode) -> StartState:
    """Where the training run of ``cfg`` starts from (the module's docstring gives the order).

    Looking for a checkpoint to resume from maps the newest ones (their tensors are not read).
    """
    last = get_last_checkpoint(cfg.OUTPUT_DIR) if cfg.TRAIN.AUTO_RESUME else None
    if last is not None:
        return StartState(RESUME, last)
    train = cfg.TRAIN
    if train.CHECKPOINT_FILE_PATH:
        return StartState(
            CHECKPOINT,
            train.CHECKPOINT_FILE_PATH,
            finetune=train.FINETUNE,
            restores_optimizer_and_epoch=not (train.FINETUNE or train.CHECKPOINT_EPOCH_RESET),
            clear_prefixes=tuple(train.CHECKPOINT_CLEAR_NAME_PATTERN),
        )
    imagenet_weights = imagenet_weights_source(cfg.TIMESFORMER.PRETRAINED_MODEL)
    if imagenet_weights is None:
        return StartState(RANDOM)
    return StartState(IMAGENET, imagenet_weights)


def prepare_start_state(cfg: CfgNode) -> None:
    """Pre-flight of a training run, before its processes start and before any data is read:
    get what its start state (:func:`decide_start_state`) needs. Starting from ImageNet weights,
    make sure they load without the network, downloading timm's into its cache once, here,
    rather than in every process; nothing else ever fetches them. Nothing to do for a config
    that does not train (TRAIN.ENABLE False).

    Raises:
        CheckpointError: one line naming TIMESFORMER.PRETRAINED_MODEL, the weights and the ways
            out: the weights are not there and cannot be downloaded, or the original's
            ViT-Base/16 weights do not fit the configured model size.
    """
    if not cfg.TRAIN.ENABLE:
        return
    start = decide_start_state(cfg)
    if start.kind != IMAGENET:
        return
    misfit = start.source == ORIGINAL_IMAGENET_WEIGHTS and _vit_base_misfit(cfg)
    if misfit:
        raise CheckpointError(
            f"TIMESFORMER.PRETRAINED_MODEL '' loads the original's ImageNet weights "
            f"({ORIGINAL_IMAGENET_WEIGHTS}, a ViT-Base/16), which do not fit this model "
            f"({misfit}); set TIMESFORMER.PRETRAINED_MODEL to weights of this size, or to "
            f"{RANDOM_INIT!r} for random initialization."
        )
    fetch_imagenet_weights(_source_of(start))


def load_start_state(cfg: CfgNode, model: nn.Module, optimizer, scaler=None, ema=None) -> int:
    """Apply the start state of ``cfg`` (:func:`decide_start_state`) to ``model``, ``optimizer``,
    ``scaler`` and ``ema`` (:class:`~timesformer.engine.model_ema.ModelEma`: resumed with the run,
    else restarted from the weights the run starts from), reading its checkpoint file once;
    return the epoch to start at."""
    start = decide_start_state(cfg)
    logger.info("Training starts from %s.", start)
    if start.kind == RESUME:
        checkpoint = read_checkpoint(_source_of(start))
        return resume_training_state(checkpoint, model, optimizer, scaler, ema)
    epoch = _APPLY[start.kind](start, model, optimizer)
    if ema is not None:
        ema.restart_from(model)
    return epoch


def _source_of(start: StartState) -> str:
    """The checkpoint file or the ImageNet weights of a start state, which every kind but
    RANDOM has."""
    assert start.source is not None, f"a {start.kind} start state has no source"
    return start.source


def _load_checkpoint(start: StartState, model: nn.Module, optimizer) -> int:
    checkpoint = read_checkpoint(_source_of(start))
    load_model_weights(
        model,
        checkpoint,
        reset_head_if_mismatch=start.finetune,
        clear_prefixes=start.clear_prefixes,
    )
    if not start.restores_optimizer_and_epoch:
        return 0
    return load_optimizer_state(checkpoint, optimizer)


def _load_imagenet(start: StartState, model: nn.Module, optimizer) -> int:
    load_pretrained_imagenet(model, _source_of(start))
    return 0


def _keep_random_init(start: StartState, model: nn.Module, optimizer) -> int:
    return 0


_APPLY = {
    CHECKPOINT: _load_checkpoint,
    IMAGENET: _load_imagenet,
    RANDOM: _keep_random_init,
}
"""How each kind of start state but RESUME is applied: (start, model, optimizer) -> first
epoch."""

# The model size the original's ImageNet weights (ViT-Base/16) fit.
_VIT_BASE_SIZE = {"EMBED_DIM": 768, "DEPTH": 12, "NUM_HEADS": 12, "MLP_RATIO": 4.0}


def _vit_base_misfit(cfg: CfgNode) -> str:
    """The model-size keys whose values differ from ViT-Base/16's, as ``KEY value, ...``."""
    return ", ".join(
        f"TIMESFORMER.{key} {cfg.TIMESFORMER[key]}"
        for key, value in _VIT_BASE_SIZE.items()
        if cfg.TIMESFORMER[key] != value
    )
