"""Validation and inference of a loaded config (``assert_and_infer_cfg``).

Every check names the key(s) at fault, the value found and what is expected, so
that a wrong YAML file or override fails before any work starts.
"""

import itertools
import logging
import re
from collections.abc import Callable, Iterable

from fvcore.common.config import CfgNode

from timesformer.config.batch import iteration_batch_size, processes_per_machine
from timesformer.config.memory import unfit_message
from timesformer.errors import TimesformerError

MAX_ENSEMBLE_VIEWS = 100
ONLY_TIMESFORMER = (
    "this project has only the TimeSformer models (MODEL.ARCH vit), not the original's SlowFast, "
    "X3D, ResNet (C2D, I3D, Slow) or AVA detection models"
)
_MODEL_KEYS = ("MODEL.ARCH", "MODEL.MODEL_NAME")

logger = logging.getLogger(__name__)


class ConfigError(TimesformerError, ValueError):
    """A config value, or a combination of values, that no run can use: a mistake in the config
    or the command line (exit status 2)."""

    exit_status = 2


_REGISTERED_VALUES: dict[str, tuple[Callable[[], Iterable], bool]] = {}


def register_allowed_values(
    key: str, values: Callable[[], Iterable], ignore_case: bool = False
) -> None:
    """Check ``key`` against ``values()`` (the names an implementation registered), from then on.

    Keys that name an implementation (TIMESFORMER.ATTENTION_TYPE, MODEL.MODEL_NAME,
    TRAIN.DATASET, SOLVER.LR_POLICY...) are checked against what the module implementing them
    registers when it is imported; config, the bottom layer, imports none of them
    (``timesformer.engine``, and with it every command line, imports them all). ``ignore_case``: the
    implementation looks names up case-insensitively (dataset names).
    """
    _REGISTERED_VALUES[key] = (values, ignore_case)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _one_of(key: str, value, allowed) -> None:
    _require(
        value in allowed,
        f"{key} is {value!r}; expected one of {', '.join(map(repr, allowed))}"
        + (f": {ONLY_TIMESFORMER}." if key in _MODEL_KEYS else "."),
    )


def _check_run(cfg: CfgNode, check_devices: bool) -> None:
    _require(cfg.NUM_GPUS >= 0, f"NUM_GPUS is {cfg.NUM_GPUS}; expected 0 (CPU) or more.")
    _require(cfg.NUM_PROCS >= 1, f"NUM_PROCS is {cfg.NUM_PROCS}; expected 1 or more.")
    _require(
        cfg.NUM_GPUS == 0 or cfg.NUM_PROCS == 1,
        f"NUM_PROCS is {cfg.NUM_PROCS} with NUM_GPUS {cfg.NUM_GPUS}; NUM_PROCS sets the "
        "number of CPU processes and needs NUM_GPUS 0 (GPU runs use one process per GPU).",
    )
    _require(cfg.NUM_SHARDS >= 1, f"NUM_SHARDS is {cfg.NUM_SHARDS}; expected 1 or more.")
    _require(
        0 <= cfg.SHARD_ID < cfg.NUM_SHARDS,
        f"SHARD_ID is {cfg.SHARD_ID}; expected 0 .. NUM_SHARDS - 1 = {cfg.NUM_SHARDS - 1}.",
    )
    _require(cfg.LOG_PERIOD >= 1, f"LOG_PERIOD is {cfg.LOG_PERIOD}; expected 1 or more.")
    _require(0 <= cfg.RNG_SEED < 2**32, f"RNG_SEED is {cfg.RNG_SEED}; expected 0 .. 2**32 - 1.")
    _one_of("DIST_BACKEND", cfg.DIST_BACKEND, ("nccl", "gloo"))
    for key in ("EVAL_PERIOD", "CHECKPOINT_PERIOD"):
        period = cfg.TRAIN[key]
        _require(
            period >= 1,
            f"TRAIN.{key} is {period}; expected 1 or more (epochs; the last epoch always counts).",
        )
    for key in ("NUM_EPOCHS", "LOG_PERIOD"):
        value = cfg.BENCHMARK[key]
        _require(value >= 1, f"BENCHMARK.{key} is {value}; expected 1 or more.")
    if check_devices and cfg.NUM_GPUS > 0:
        import torch

        available = torch.cuda.device_count()
        _require(
            cfg.NUM_GPUS <= available,
            f"NUM_GPUS is {cfg.NUM_GPUS} but this machine has {available} CUDA GPU(s); "
            "lower NUM_GPUS, or set NUM_GPUS 0 to run on the CPU.",
        )


def _check_batches(cfg: CfgNode) -> None:
    procs = processes_per_machine(cfg)
    procs_key = "NUM_GPUS" if cfg.NUM_GPUS > 0 else "NUM_PROCS"
    for split in ("TRAIN", "TEST"):
        size = cfg[split].BATCH_SIZE
        _require(size >= 1, f"{split}.BATCH_SIZE is {size}; expected 1 or more.")
        _require(
            size % procs == 0,
            f"{split}.BATCH_SIZE ({size}) must be divisible by the number of processes "
            f"per machine ({procs_key} = {procs}).",
        )
    iteration_batch = iteration_batch_size(cfg)
    _require(
        cfg.GLOBAL_BATCH_SIZE >= 1,
        f"GLOBAL_BATCH_SIZE is {cfg.GLOBAL_BATCH_SIZE}; expected 1 or more.",
    )
    clips_per_video = cfg.DATA.TRAIN_CROP_NUM_TEMPORAL
    _require(
        clips_per_video >= 1,
        f"DATA.TRAIN_CROP_NUM_TEMPORAL is {clips_per_video}; expected 1 or more (training clips "
        "per video).",
    )
    keys, values = "NUM_SHARDS x TRAIN.BATCH_SIZE", f"{cfg.NUM_SHARDS} x {cfg.TRAIN.BATCH_SIZE}"
    if clips_per_video > 1:
        keys, values = f"{keys} x DATA.TRAIN_CROP_NUM_TEMPORAL", f"{values} x {clips_per_video}"
    _require(
        iteration_batch >= cfg.GLOBAL_BATCH_SIZE or cfg.GLOBAL_BATCH_SIZE % iteration_batch == 0,
        f"GLOBAL_BATCH_SIZE ({cfg.GLOBAL_BATCH_SIZE}) must be a multiple of {keys} "
        f"({values} = {iteration_batch}) for gradient accumulation, or at most that product.",
    )


def _check_model(cfg: CfgNode) -> None:
    tf = cfg.TIMESFORMER
    for key in ("EMBED_DIM", "DEPTH", "NUM_HEADS", "PATCH_SIZE"):
        _require(tf[key] >= 1, f"TIMESFORMER.{key} is {tf[key]}; expected 1 or more.")
    _require(
        tf.EMBED_DIM % tf.NUM_HEADS == 0,
        f"TIMESFORMER.EMBED_DIM ({tf.EMBED_DIM}) must be divisible by "
        f"TIMESFORMER.NUM_HEADS ({tf.NUM_HEADS}).",
    )
    _require(tf.MLP_RATIO > 0, f"TIMESFORMER.MLP_RATIO is {tf.MLP_RATIO}; expected > 0.")
    _require(tf.INIT_STD > 0, f"TIMESFORMER.INIT_STD is {tf.INIT_STD}; expected > 0.")
    _require(
        tf.TIME_EMBED_INIT_STD >= 0,
        f"TIMESFORMER.TIME_EMBED_INIT_STD is {tf.TIME_EMBED_INIT_STD}; expected 0 (zeros) or more.",
    )
    _require(
        0.0 <= tf.DROP_PATH_RATE < 1.0,
        f"TIMESFORMER.DROP_PATH_RATE is {tf.DROP_PATH_RATE}; expected 0 <= rate < 1.",
    )
    _require(
        0.0 <= cfg.MODEL.DROPOUT_RATE < 1.0,
        f"MODEL.DROPOUT_RATE is {cfg.MODEL.DROPOUT_RATE}; expected 0 <= rate < 1.",
    )
    _require(
        0.0 <= cfg.MODEL.HEAD_DROPOUT_RATE < 1.0,
        f"MODEL.HEAD_DROPOUT_RATE is {cfg.MODEL.HEAD_DROPOUT_RATE}; expected 0 <= rate < 1.",
    )
    _require(
        cfg.MODEL.NUM_CLASSES >= 1,
        f"MODEL.NUM_CLASSES is {cfg.MODEL.NUM_CLASSES}; expected 1 or more.",
    )
    _one_of("MODEL.ARCH", cfg.MODEL.ARCH, ("vit",))
    _require(
        0.0 <= cfg.MODEL.LABEL_SMOOTHING < 1.0,
        f"MODEL.LABEL_SMOOTHING is {cfg.MODEL.LABEL_SMOOTHING}; expected 0 <= value < 1.",
    )
    _require(
        not (
            cfg.TRAIN.MIXED_PRECISION
            and cfg.TRAIN.MIXED_PRECISION_DTYPE == "fp16"
            and cfg.NUM_GPUS == 0
        ),
        "TRAIN.MIXED_PRECISION_DTYPE 'fp16' needs a GPU (NUM_GPUS >= 1); use 'bf16' on the CPU.",
    )
    for key in ("TRAIN.CHECKPOINT_TYPE", "TEST.CHECKPOINT_TYPE"):
        split, name = key.split(".")
        _one_of(key, cfg[split][name], ("pytorch",))


def _check_data(cfg: CfgNode) -> None:
    data = cfg.DATA
    patch = cfg.TIMESFORMER.PATCH_SIZE
    for key in ("TRAIN_CROP_SIZE", "TEST_CROP_SIZE"):
        size = data[key]
        _require(size >= 1, f"DATA.{key} is {size}; expected 1 or more.")
        _require(
            size % patch == 0,
            f"DATA.{key} ({size}) must be divisible by TIMESFORMER.PATCH_SIZE ({patch}).",
        )
    scales = data.TRAIN_JITTER_SCALES
    _require(
        len(scales) == 2 and 0 < scales[0] <= scales[1],
        f"DATA.TRAIN_JITTER_SCALES is {list(scales)}; expected [min, max] with 0 < min <= max.",
    )
    _require(
        scales[0] >= data.TRAIN_CROP_SIZE,
        f"DATA.TRAIN_JITTER_SCALES min ({scales[0]}) is smaller than DATA.TRAIN_CROP_SIZE "
        f"({data.TRAIN_CROP_SIZE}); the crop would not fit the scaled frame.",
    )
    for key in ("NUM_FRAMES", "SAMPLING_RATE", "TARGET_FPS"):
        _require(data[key] >= 1, f"DATA.{key} is {data[key]}; expected 1 or more.")
    for key in ("MEAN", "STD"):
        _require(len(data[key]) == 3, f"DATA.{key} is {list(data[key])}; expected 3 values (RGB).")
    _require(
        all(s > 0 for s in data.STD), f"DATA.STD is {list(data.STD)}; expected positive values."
    )
    _require(
        list(data.INPUT_CHANNEL_NUM) == [3],
        f"DATA.INPUT_CHANNEL_NUM is {list(data.INPUT_CHANNEL_NUM)}; TimeSformer takes one RGB "
        "pathway: [3].",
    )
    _require(
        data.PATH_LABEL_SEPARATOR != "",
        "DATA.PATH_LABEL_SEPARATOR is empty; expected the text between path and label ' '.",
    )
    _one_of("DATA.DECODING_BACKEND", data.DECODING_BACKEND, ("pyav",))
    _require(data.NUM_RETRIES >= 0, f"DATA.NUM_RETRIES is {data.NUM_RETRIES}; expected 0 or more.")
    _require(
        data.SPLIT_NUMBER in (1, 2, 3),
        f"DATA.SPLIT_NUMBER is {data.SPLIT_NUMBER}; expected 1, 2 or 3 (the published splits of "
        "UCF101 and HMDB51).",
    )
    views = cfg.TEST.NUM_ENSEMBLE_VIEWS
    _require(
        1 <= views <= MAX_ENSEMBLE_VIEWS,
        f"TEST.NUM_ENSEMBLE_VIEWS is {views}; expected 1 .. {MAX_ENSEMBLE_VIEWS} (clips per "
        "video; the paper's views are 1 to 10, and many more only overlap).",
    )
    _require(
        cfg.DATA_LOADER.NUM_WORKERS >= 0,
        f"DATA_LOADER.NUM_WORKERS is {cfg.DATA_LOADER.NUM_WORKERS}; expected 0 or more.",
    )


def _check_solver(cfg: CfgNode) -> None:
    solver = cfg.SOLVER
    _require(solver.BASE_LR > 0, f"SOLVER.BASE_LR is {solver.BASE_LR}; expected > 0.")
    _require(solver.MAX_EPOCH >= 1, f"SOLVER.MAX_EPOCH is {solver.MAX_EPOCH}; expected 1 or more.")
    _require(
        solver.WEIGHT_DECAY >= 0, f"SOLVER.WEIGHT_DECAY is {solver.WEIGHT_DECAY}; expected >= 0."
    )
    for key in ("COSINE_END_LR", "WARMUP_START_LR", "MOMENTUM", "DAMPENING"):
        _require(solver[key] >= 0, f"SOLVER.{key} is {solver[key]}; expected >= 0.")
    _require(
        0 <= solver.WARMUP_EPOCHS <= solver.MAX_EPOCH,
        f"SOLVER.WARMUP_EPOCHS is {solver.WARMUP_EPOCHS}; expected 0 .. SOLVER.MAX_EPOCH "
        f"({solver.MAX_EPOCH}).",
    )
    if solver.LR_POLICY == "steps_with_relative_lrs":
        steps, lrs = list(solver.STEPS), list(solver.LRS)
        _require(
            len(steps) >= 1 and len(steps) == len(lrs),
            f"SOLVER.STEPS {steps} and SOLVER.LRS {lrs} must be non-empty and of equal length "
            "for LR_POLICY steps_with_relative_lrs.",
        )
        _require(
            steps[0] == 0 and all(a < b for a, b in itertools.pairwise(steps)),
            f"SOLVER.STEPS is {steps}; expected strictly increasing epochs starting at 0 (a "
            "repeated step would leave its SOLVER.LRS entry unused).",
        )
        _require(all(lr >= 0 for lr in lrs), f"SOLVER.LRS is {lrs}; expected multipliers >= 0.")
        unreached = [step for step in steps if step >= solver.MAX_EPOCH]
        if unreached:  # as in the original: a short run keeps the LR of the last step it reaches
            logger.warning(
                "SOLVER.STEPS %s: step(s) %s are at or after SOLVER.MAX_EPOCH (%d) and are never "
                "reached; the learning rate stays at SOLVER.BASE_LR x %s from epoch %d on.",
                steps,
                unreached,
                solver.MAX_EPOCH,
                lrs[len(steps) - len(unreached) - 1],
                steps[len(steps) - len(unreached) - 1],
            )
    clip = solver.CLIP_GRAD_L2NORM
    _require(
        clip is None or clip > 0,
        f"SOLVER.CLIP_GRAD_L2NORM is {clip}; expected None (no clipping) or > 0.",
    )


# timm's RandAugment config string (timm.data.auto_augment.rand_augment_transform).
_RAND_AUGMENT_FORM = re.compile(
    r"rand(-(m\d+(\.\d+)?|n\d+|mstd\d+(\.\d+)?|mmax\d+(\.\d+)?|inc[01]|p\d*\.?\d+|w\d+))*"
)
RAND_AUGMENT_FORM = "rand-m<magnitude>-n<ops>[-mstd<float>][-mmax<float>][-inc<0|1>][-p<float>]"


def _check_augmentation(cfg: CfgNode) -> None:
    aug = cfg.AUG
    aa_type = aug.AA_TYPE
    _require(
        aa_type == "" or _RAND_AUGMENT_FORM.fullmatch(aa_type) is not None,
        f"AUG.AA_TYPE is {aa_type!r}; expected timm's RandAugment form {RAND_AUGMENT_FORM} "
        "(e.g. 'rand-m7-n4-mstd0.5-inc1'), or '' for none.",
    )
    _one_of("AUG.INTERPOLATION", aug.INTERPOLATION, ("bilinear", "bicubic"))
    _require(0.0 <= aug.RE_PROB <= 1.0, f"AUG.RE_PROB is {aug.RE_PROB}; expected 0 .. 1.")
    _one_of("AUG.RE_MODE", aug.RE_MODE, ("pixel", "rand", "const"))
    _require(aug.RE_COUNT >= 1, f"AUG.RE_COUNT is {aug.RE_COUNT}; expected 1 or more.")


def _check_finetuning(cfg: CfgNode) -> None:
    """Layer-wise LR decay, the EMA of the weights and frozen blocks."""
    decay = cfg.SOLVER.LAYER_DECAY
    _require(
        0.0 < decay <= 1.0,
        f"SOLVER.LAYER_DECAY is {decay}; expected 0 < value <= 1 (1.0: no layer-wise decay).",
    )
    ema_decay = cfg.MODEL_EMA.DECAY
    _require(0.0 <= ema_decay < 1.0, f"MODEL_EMA.DECAY is {ema_decay}; expected 0 <= decay < 1.")
    blocks, depth = cfg.TRAIN.FREEZE_BLOCKS, cfg.TIMESFORMER.DEPTH
    _require(
        0 <= blocks <= depth,
        f"TRAIN.FREEZE_BLOCKS is {blocks}; expected 0 .. TIMESFORMER.DEPTH ({depth}), the "
        "number of blocks the model has.",
    )
    _require(
        not (cfg.TRAIN.LINEAR_PROBE and blocks),
        f"TRAIN.LINEAR_PROBE freezes every block; TRAIN.FREEZE_BLOCKS ({blocks}) must then be 0.",
    )


def _check_mixup(cfg: CfgNode) -> None:
    mixup = cfg.MIXUP
    for key in ("PROB", "SWITCH_PROB"):
        _require(0.0 <= mixup[key] <= 1.0, f"MIXUP.{key} is {mixup[key]}; expected 0 .. 1.")
    for key in ("ALPHA", "CUTMIX_ALPHA"):
        _require(mixup[key] >= 0, f"MIXUP.{key} is {mixup[key]}; expected 0 (off) or more.")
    _require(
        0.0 <= mixup.LABEL_SMOOTHING < 1.0,
        f"MIXUP.LABEL_SMOOTHING is {mixup.LABEL_SMOOTHING}; expected 0 <= value < 1.",
    )
    minmax = mixup.CUTMIX_MINMAX
    _require(
        minmax is None or (len(minmax) == 2 and 0 < minmax[0] < minmax[1] <= 1),
        f"MIXUP.CUTMIX_MINMAX is {minmax}; expected None or [min, max] with 0 < min < max <= 1.",
    )


def _check_multi_label(cfg: CfgNode) -> None:
    """DATA.MULTI_LABEL: the loss, the view ensemble and the figures that several labels per video
    take."""
    if not cfg.DATA.MULTI_LABEL:
        return
    _require(
        cfg.MODEL.LOSS_FUNC == "bce_logit",
        f"MODEL.LOSS_FUNC is {cfg.MODEL.LOSS_FUNC!r}, which takes one label per video; "
        "DATA.MULTI_LABEL True needs 'bce_logit' (a sigmoid per class).",
    )
    _require(
        not cfg.TEST.ENSEMBLE_SOFTMAX,
        "TEST.ENSEMBLE_SOFTMAX is True, but with DATA.MULTI_LABEL the views are combined as "
        "each class's sigmoid probability; set TEST.ENSEMBLE_SOFTMAX False.",
    )
    for key in ("CONFUSION_MATRIX", "HISTOGRAM"):
        _require(
            not cfg.TENSORBOARD[key].ENABLE,
            f"TENSORBOARD.{key}.ENABLE is True, but its figures need one label per video "
            "(DATA.MULTI_LABEL True draws the per-class AP instead); set it False.",
        )


def _check_tensorboard(cfg: CfgNode) -> None:
    board = cfg.TENSORBOARD
    for key in ("CONFUSION_MATRIX", "HISTOGRAM"):
        size = list(board[key].FIGSIZE)
        _require(
            len(size) == 2 and all(side > 0 for side in size),
            f"TENSORBOARD.{key}.FIGSIZE is {size}; expected [width, height] in inches, both > 0.",
        )
    _require(
        board.HISTOGRAM.TOPK >= 1,
        f"TENSORBOARD.HISTOGRAM.TOPK is {board.HISTOGRAM.TOPK}; expected 1 or more.",
    )


def _check_registered_values(cfg: CfgNode) -> None:
    for key in _REGISTERED_VALUES:
        section, name = key.split(".")
        _check_registered(key, cfg[section][name])


def _check_registered(key: str, value: object, registered_key: str | None = None) -> None:
    """``value`` of ``key`` is one of the values registered for ``registered_key`` (default:
    ``key``)."""
    values, ignore_case = _REGISTERED_VALUES[registered_key or key]
    allowed = tuple(values())
    folded = value.lower() if ignore_case and isinstance(value, str) else None
    if folded is None or folded not in (name.lower() for name in allowed):
        _one_of(key, value, allowed)


def _infer(cfg: CfgNode) -> None:
    legacy = cfg.DATA.ENSEMBLE_METHOD
    if legacy is not None:
        _check_registered("DATA.ENSEMBLE_METHOD", legacy, "TEST.ENSEMBLE_METHOD")
        cfg.TEST.ENSEMBLE_METHOD = legacy
        cfg.DATA.ENSEMBLE_METHOD = None
    if cfg.SOLVER.BASE_LR_SCALE_NUM_SHARDS:
        cfg.SOLVER.BASE_LR *= cfg.NUM_SHARDS
        cfg.SOLVER.BASE_LR_SCALE_NUM_SHARDS = False
    if cfg.NUM_GPUS == 0:
        cfg.DIST_BACKEND = "gloo"


def assert_and_infer_cfg(cfg: CfgNode, check_devices: bool = True) -> CfgNode:
    """Check that ``cfg`` describes a possible run, fill inferred values, return it.

    Args:
        cfg: a config from :func:`timesformer.config.defaults.get_cfg`, merged.
        check_devices: also check that this machine has NUM_GPUS GPUs, and that the run's
            model and one batch can fit in their memory (:mod:`timesformer.config.memory`).
            Turn off to validate a config meant for another machine.

    Raises:
        ConfigError: naming the key(s), the value found and what is expected.
    """
    _check_run(cfg, check_devices)
    _check_batches(cfg)
    _check_model(cfg)
    _check_data(cfg)
    _check_solver(cfg)
    _check_mixup(cfg)
    _check_augmentation(cfg)
    _check_finetuning(cfg)
    _check_multi_label(cfg)
    _check_tensorboard(cfg)
    _check_registered_values(cfg)
    unfit = unfit_message(cfg) if check_devices else None
    if unfit is not None:
        raise ConfigError(unfit)
    _infer(cfg)
    return cfg
