"""Validation and inference of a loaded config (``assert_and_infer_cfg``).

Every check names the key(s) at fault, the value found and what is expected, so
that a wrong YAML file or override fails before any work starts.
"""

from collections.abc import Callable, Iterable

from fvcore.common.config import CfgNode

from timesformer.config.batch import iteration_batch_size, processes_per_machine
from timesformer.config.check_rules import ConfigError, one_of, require
from timesformer.config.memory import unfit_message
from timesformer.config.training_checks import (
    check_augmentation,
    check_finetuning,
    check_mixup,
    check_solver,
)

MAX_ENSEMBLE_VIEWS = 100


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


def _check_run(cfg: CfgNode) -> None:
    require(cfg.NUM_GPUS >= 0, f"NUM_GPUS is {cfg.NUM_GPUS}; expected 0 (CPU) or more.")
    require(cfg.NUM_PROCS >= 1, f"NUM_PROCS is {cfg.NUM_PROCS}; expected 1 or more.")
    require(
        cfg.NUM_GPUS == 0 or cfg.NUM_PROCS == 1,
        f"NUM_PROCS is {cfg.NUM_PROCS} with NUM_GPUS {cfg.NUM_GPUS}; NUM_PROCS sets the "
        "number of CPU processes and needs NUM_GPUS 0 (GPU runs use one process per GPU).",
    )
    require(cfg.NUM_SHARDS >= 1, f"NUM_SHARDS is {cfg.NUM_SHARDS}; expected 1 or more.")
    require(
        0 <= cfg.SHARD_ID < cfg.NUM_SHARDS,
        f"SHARD_ID is {cfg.SHARD_ID}; expected 0 .. NUM_SHARDS - 1 = {cfg.NUM_SHARDS - 1}.",
    )
    require(cfg.LOG_PERIOD >= 1, f"LOG_PERIOD is {cfg.LOG_PERIOD}; expected 1 or more.")
    require(
        cfg.DIST_RENDEZVOUS_TIMEOUT > 0,
        f"DIST_RENDEZVOUS_TIMEOUT is {cfg.DIST_RENDEZVOUS_TIMEOUT}; expected > 0 (seconds).",
    )
    require(0 <= cfg.RNG_SEED < 2**32, f"RNG_SEED is {cfg.RNG_SEED}; expected 0 .. 2**32 - 1.")
    one_of("DIST_BACKEND", cfg.DIST_BACKEND, ("nccl", "gloo"))
    for key in ("EVAL_PERIOD", "CHECKPOINT_PERIOD"):
        period = cfg.TRAIN[key]
        require(
            period >= 1,
            f"TRAIN.{key} is {period}; expected 1 or more (epochs; the last epoch always counts).",
        )
    for key in ("NUM_EPOCHS", "LOG_PERIOD"):
        value = cfg.BENCHMARK[key]
        require(value >= 1, f"BENCHMARK.{key} is {value}; expected 1 or more.")


def _check_devices(cfg: CfgNode) -> None:
    if cfg.NUM_GPUS > 0:
        import torch  # the only check that needs torch; the others run before it loads

        available = torch.cuda.device_count()
        require(
            cfg.NUM_GPUS <= available,
            f"NUM_GPUS is {cfg.NUM_GPUS} but this machine has {available} CUDA GPU(s); "
            "lower NUM_GPUS, or set NUM_GPUS 0 to run on the CPU.",
        )


def _check_batches(cfg: CfgNode) -> None:
    procs = processes_per_machine(cfg)
    procs_key = "NUM_GPUS" if cfg.NUM_GPUS > 0 else "NUM_PROCS"
    for split in ("TRAIN", "TEST"):
        size = cfg[split].BATCH_SIZE
        require(size >= 1, f"{split}.BATCH_SIZE is {size}; expected 1 or more.")
        require(
            size % procs == 0,
            f"{split}.BATCH_SIZE ({size}) must be divisible by the number of processes "
            f"per machine ({procs_key} = {procs}).",
        )
    iteration_batch = iteration_batch_size(cfg)
    require(
        cfg.GLOBAL_BATCH_SIZE >= 1,
        f"GLOBAL_BATCH_SIZE is {cfg.GLOBAL_BATCH_SIZE}; expected 1 or more.",
    )
    clips_per_video = cfg.DATA.TRAIN_CROP_NUM_TEMPORAL
    require(
        clips_per_video >= 1,
        f"DATA.TRAIN_CROP_NUM_TEMPORAL is {clips_per_video}; expected 1 or more (training clips "
        "per video).",
    )
    keys, values = "NUM_SHARDS x TRAIN.BATCH_SIZE", f"{cfg.NUM_SHARDS} x {cfg.TRAIN.BATCH_SIZE}"
    if clips_per_video > 1:
        keys, values = f"{keys} x DATA.TRAIN_CROP_NUM_TEMPORAL", f"{values} x {clips_per_video}"
    require(
        iteration_batch >= cfg.GLOBAL_BATCH_SIZE or cfg.GLOBAL_BATCH_SIZE % iteration_batch == 0,
        f"GLOBAL_BATCH_SIZE ({cfg.GLOBAL_BATCH_SIZE}) must be a multiple of {keys} "
        f"({values} = {iteration_batch}) for gradient accumulation, or at most that product.",
    )


def _check_model(cfg: CfgNode) -> None:
    tf = cfg.TIMESFORMER
    for key in ("EMBED_DIM", "DEPTH", "NUM_HEADS", "PATCH_SIZE"):
        require(tf[key] >= 1, f"TIMESFORMER.{key} is {tf[key]}; expected 1 or more.")
    require(
        tf.EMBED_DIM % tf.NUM_HEADS == 0,
        f"TIMESFORMER.EMBED_DIM ({tf.EMBED_DIM}) must be divisible by "
        f"TIMESFORMER.NUM_HEADS ({tf.NUM_HEADS}).",
    )
    require(tf.MLP_RATIO > 0, f"TIMESFORMER.MLP_RATIO is {tf.MLP_RATIO}; expected > 0.")
    require(tf.INIT_STD > 0, f"TIMESFORMER.INIT_STD is {tf.INIT_STD}; expected > 0.")
    require(
        tf.TIME_EMBED_INIT_STD >= 0,
        f"TIMESFORMER.TIME_EMBED_INIT_STD is {tf.TIME_EMBED_INIT_STD}; expected 0 (zeros) or more.",
    )
    require(
        0.0 <= tf.DROP_PATH_RATE < 1.0,
        f"TIMESFORMER.DROP_PATH_RATE is {tf.DROP_PATH_RATE}; expected 0 <= rate < 1.",
    )
    require(
        0.0 <= cfg.MODEL.DROPOUT_RATE < 1.0,
        f"MODEL.DROPOUT_RATE is {cfg.MODEL.DROPOUT_RATE}; expected 0 <= rate < 1.",
    )
    require(
        0.0 <= cfg.MODEL.HEAD_DROPOUT_RATE < 1.0,
        f"MODEL.HEAD_DROPOUT_RATE is {cfg.MODEL.HEAD_DROPOUT_RATE}; expected 0 <= rate < 1.",
    )
    require(
        cfg.MODEL.NUM_CLASSES >= 1,
        f"MODEL.NUM_CLASSES is {cfg.MODEL.NUM_CLASSES}; expected 1 or more.",
    )
    one_of("MODEL.ARCH", cfg.MODEL.ARCH, ("vit",))
    require(
        0.0 <= cfg.MODEL.LABEL_SMOOTHING < 1.0,
        f"MODEL.LABEL_SMOOTHING is {cfg.MODEL.LABEL_SMOOTHING}; expected 0 <= value < 1.",
    )
    require(
        not (
            cfg.TRAIN.MIXED_PRECISION
            and cfg.TRAIN.MIXED_PRECISION_DTYPE == "fp16"
            and cfg.NUM_GPUS == 0
        ),
        "TRAIN.MIXED_PRECISION_DTYPE 'fp16' needs a GPU (NUM_GPUS >= 1); use 'bf16' on the CPU.",
    )
    for key in ("TRAIN.CHECKPOINT_TYPE", "TEST.CHECKPOINT_TYPE"):
        split, name = key.split(".")
        one_of(key, cfg[split][name], ("pytorch",))


def _check_data(cfg: CfgNode) -> None:
    data = cfg.DATA
    patch = cfg.TIMESFORMER.PATCH_SIZE
    for key in ("TRAIN_CROP_SIZE", "TEST_CROP_SIZE"):
        size = data[key]
        require(size >= 1, f"DATA.{key} is {size}; expected 1 or more.")
        require(
            size % patch == 0,
            f"DATA.{key} ({size}) must be divisible by TIMESFORMER.PATCH_SIZE ({patch}).",
        )
    scales = data.TRAIN_JITTER_SCALES
    require(
        len(scales) == 2 and 0 < scales[0] <= scales[1],
        f"DATA.TRAIN_JITTER_SCALES is {list(scales)}; expected [min, max] with 0 < min <= max.",
    )
    require(
        scales[0] >= data.TRAIN_CROP_SIZE,
        f"DATA.TRAIN_JITTER_SCALES min ({scales[0]}) is smaller than DATA.TRAIN_CROP_SIZE "
        f"({data.TRAIN_CROP_SIZE}); the crop would not fit the scaled frame.",
    )
    for key in ("NUM_FRAMES", "SAMPLING_RATE", "TARGET_FPS"):
        require(data[key] >= 1, f"DATA.{key} is {data[key]}; expected 1 or more.")
    for key in ("MEAN", "STD"):
        require(len(data[key]) == 3, f"DATA.{key} is {list(data[key])}; expected 3 values (RGB).")
    require(
        all(s > 0 for s in data.STD), f"DATA.STD is {list(data.STD)}; expected positive values."
    )
    require(
        list(data.INPUT_CHANNEL_NUM) == [3],
        f"DATA.INPUT_CHANNEL_NUM is {list(data.INPUT_CHANNEL_NUM)}; TimeSformer takes one RGB "
        "pathway: [3].",
    )
    require(
        data.PATH_LABEL_SEPARATOR != "",
        "DATA.PATH_LABEL_SEPARATOR is empty; expected the text between path and label ' '.",
    )
    one_of("DATA.DECODING_BACKEND", data.DECODING_BACKEND, ("pyav",))
    require(data.NUM_RETRIES >= 0, f"DATA.NUM_RETRIES is {data.NUM_RETRIES}; expected 0 or more.")
    require(
        data.SPLIT_NUMBER in (1, 2, 3),
        f"DATA.SPLIT_NUMBER is {data.SPLIT_NUMBER}; expected 1, 2 or 3 (the published splits of "
        "UCF101 and HMDB51).",
    )
    views = cfg.TEST.NUM_ENSEMBLE_VIEWS
    require(
        1 <= views <= MAX_ENSEMBLE_VIEWS,
        f"TEST.NUM_ENSEMBLE_VIEWS is {views}; expected 1 .. {MAX_ENSEMBLE_VIEWS} (clips per "
        "video; the paper's views are 1 to 10, and many more only overlap).",
    )
    require(
        cfg.DATA_LOADER.NUM_WORKERS >= 0,
        f"DATA_LOADER.NUM_WORKERS is {cfg.DATA_LOADER.NUM_WORKERS}; expected 0 or more.",
    )


def _check_multi_label(cfg: CfgNode) -> None:
    """DATA.MULTI_LABEL: the loss, the view ensemble and the figures that several labels per video
    take."""
    if not cfg.DATA.MULTI_LABEL:
        return
    require(
        cfg.MODEL.LOSS_FUNC == "bce_logit",
        f"MODEL.LOSS_FUNC is {cfg.MODEL.LOSS_FUNC!r}, which takes one label per video; "
        "DATA.MULTI_LABEL True needs 'bce_logit' (a sigmoid per class).",
    )
    require(
        not cfg.TEST.ENSEMBLE_SOFTMAX,
        "TEST.ENSEMBLE_SOFTMAX is True, but with DATA.MULTI_LABEL the views are combined as "
        "each class's sigmoid probability; set TEST.ENSEMBLE_SOFTMAX False.",
    )
    for key in ("CONFUSION_MATRIX", "HISTOGRAM"):
        require(
            not cfg.TENSORBOARD[key].ENABLE,
            f"TENSORBOARD.{key}.ENABLE is True, but its figures need one label per video "
            "(DATA.MULTI_LABEL True draws the per-class AP instead); set it False.",
        )


def _check_tensorboard(cfg: CfgNode) -> None:
    board = cfg.TENSORBOARD
    for key in ("CONFUSION_MATRIX", "HISTOGRAM"):
        size = list(board[key].FIGSIZE)
        require(
            len(size) == 2 and all(side > 0 for side in size),
            f"TENSORBOARD.{key}.FIGSIZE is {size}; expected [width, height] in inches, both > 0.",
        )
    require(
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
        one_of(key, value, allowed)


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


def check_values(cfg: CfgNode) -> None:
    """Check every value of ``cfg`` that needs no implementation: the checks of
    :func:`assert_and_infer_cfg` but the registered values, the devices and the memory.

    Needs nothing but the config (no torch), so that a command line names a mistake in its config
    before the implementations load (:func:`timesformer.utils.parser.load_config`).

    Raises:
        ConfigError: naming the key(s), the value found and what is expected.
    """
    _check_run(cfg)
    _check_batches(cfg)
    _check_model(cfg)
    _check_data(cfg)
    check_solver(cfg)
    check_mixup(cfg)
    check_augmentation(cfg)
    check_finetuning(cfg)
    _check_multi_label(cfg)
    _check_tensorboard(cfg)


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
    check_values(cfg)
    if check_devices:
        _check_devices(cfg)
    _check_registered_values(cfg)
    unfit = unfit_message(cfg) if check_devices else None
    if unfit is not None:
        raise ConfigError(unfit)
    _infer(cfg)
    return cfg
