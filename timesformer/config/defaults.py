"""The configuration tree: every key a run can set, with its default and meaning.

A run's config is built as ``defaults (this tree) <- YAML file <- KEY VALUE
overrides`` (see :func:`timesformer.utils.parser.load_config`) and then checked
and completed by :func:`assert_and_infer_cfg`. The keys of training, testing, the
solver and the run are here; those of the model (MODEL, TIMESFORMER), the data (DATA,
DATA_LOADER, MIXUP) and the tools (TENSORBOARD, BENCHMARK) in ``model_keys.py``,
``data_keys.py`` and ``tool_keys.py`` beside this file.

The keys are those of the original TimeSformer code base, so its YAML files load
unchanged, plus the keys this project adds (model size under ``TIMESFORMER``,
``NUM_PROCS``, mixed precision, robustness and speed options). Keys for models
and datasets this project does not ship (SlowFast, AVA, detection) are absent on
purpose: setting one fails with the key's name instead of being ignored.
"""

from fvcore.common.config import CfgNode

from timesformer.config.checks import assert_and_infer_cfg
from timesformer.config.data_keys import add_data_keys
from timesformer.config.model_keys import add_model_keys
from timesformer.config.tool_keys import add_tool_keys

__all__ = ["get_cfg", "assert_and_infer_cfg"]

_C = CfgNode()
add_model_keys(_C)
add_data_keys(_C)
add_tool_keys(_C)

# ---------------------------------------------------------------------------- #
# Training
# ---------------------------------------------------------------------------- #
_C.TRAIN = CfgNode()

# Train the model (then validate every EVAL_PERIOD epochs).
_C.TRAIN.ENABLE = True

# Dataset name as registered in DATASET_REGISTRY: kinetics, ssv2, howto100m.
_C.TRAIN.DATASET = "kinetics"

# Mini-batch size of one machine, summed over its processes (GPUs, or CPU
# processes when NUM_GPUS is 0). Each process loads BATCH_SIZE / processes videos,
# each giving DATA.TRAIN_CROP_NUM_TEMPORAL clips (1 by default).
_C.TRAIN.BATCH_SIZE = 64

# With gradient accumulation (GLOBAL_BATCH_SIZE), the iterations left at the end of an epoch,
# fewer than an optimizer step accumulates: False (the original), their gradients are dropped;
# True, they take one more optimizer step, their gradients averaged over their count.
_C.TRAIN.STEP_ON_EPOCH_REMAINDER = False

# Validate every EVAL_PERIOD epochs (and after the last epoch).
_C.TRAIN.EVAL_PERIOD = 10

# Save a checkpoint every CHECKPOINT_PERIOD epochs (and after the last epoch).
_C.TRAIN.CHECKPOINT_PERIOD = 10

# Resume from the last complete checkpoint in OUTPUT_DIR/checkpoints, if any.
_C.TRAIN.AUTO_RESUME = True

# Checkpoint to initialize from when there is nothing to auto-resume.
_C.TRAIN.CHECKPOINT_FILE_PATH = ""

# Format of TRAIN.CHECKPOINT_FILE_PATH. Only "pytorch" is supported.
_C.TRAIN.CHECKPOINT_TYPE = "pytorch"

# Start counting epochs at 0 after loading TRAIN.CHECKPOINT_FILE_PATH.
_C.TRAIN.CHECKPOINT_EPOCH_RESET = False

# Prefixes stripped from parameter names of TRAIN.CHECKPOINT_FILE_PATH,
# e.g. ("module.",).
_C.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN = ()

# Fine-tune: load only the weights of TRAIN.CHECKPOINT_FILE_PATH (not optimizer
# or epoch) and re-initialize the head when MODEL.NUM_CLASSES differs.
_C.TRAIN.FINETUNE = False

# Train with automatic mixed precision (autocast), in MIXED_PRECISION_DTYPE.
_C.TRAIN.MIXED_PRECISION = False

# Autocast dtype: "bf16" (GPU or CPU) or "fp16" (GPU only, with a GradScaler).
_C.TRAIN.MIXED_PRECISION_DTYPE = "bf16"

# Linear probe: train only the head. The rest of the model (embeddings, blocks, final norm) is
# frozen: no gradients, in eval mode (no drop path), left out of the optimizer.
_C.TRAIN.LINEAR_PROBE = False

# Freeze the embeddings (patch, position, time, class token) and the first FREEZE_BLOCKS blocks
# the same way (0: none; at most TIMESFORMER.DEPTH). Not with LINEAR_PROBE, which freezes all.
_C.TRAIN.FREEZE_BLOCKS = 0

# ---------------------------------------------------------------------------- #
# Exponential moving average of the weights (timm's ModelEmaV3)
# ---------------------------------------------------------------------------- #
_C.MODEL_EMA = CfgNode()

# Keep an EMA of the weights, updated after every optimizer step. Validation, testing and the
# tools (predict, extract_features, export, ...) then use the EMA weights when the checkpoint
# holds them; checkpoints hold both.
_C.MODEL_EMA.ENABLE = False

# EMA decay per optimizer step: ema = decay * ema + (1 - decay) * weights. 0 <= decay < 1.
_C.MODEL_EMA.DECAY = 0.9998

# Warm the decay up as timm does (decay_t = 1 - t^(-2/3) at optimizer step t, capped at DECAY),
# so that the early average is not dominated by the starting weights.
_C.MODEL_EMA.WARMUP = False

# ---------------------------------------------------------------------------- #
# Testing
# ---------------------------------------------------------------------------- #
_C.TEST = CfgNode()

# Run multi-view testing (after training, when TRAIN.ENABLE is also set).
_C.TEST.ENABLE = True

# Dataset name as registered in DATASET_REGISTRY.
_C.TEST.DATASET = "kinetics"

# Mini-batch size of one machine at test time, summed over its processes.
_C.TEST.BATCH_SIZE = 8

# Weights to test; empty: the last checkpoint in OUTPUT_DIR/checkpoints.
_C.TEST.CHECKPOINT_FILE_PATH = ""

# Temporal clips per video, spread uniformly over the video.
_C.TEST.NUM_ENSEMBLE_VIEWS = 10

# Spatial crops per clip: 1 (center) or 3 (left/center/right or top/center/bottom).
_C.TEST.NUM_SPATIAL_CROPS = 3

# Format of TEST.CHECKPOINT_FILE_PATH. Only "pytorch" is supported.
_C.TEST.CHECKPOINT_TYPE = "pytorch"

# When set, per-video scores and labels are saved to this file (under OUTPUT_DIR
# when relative).
_C.TEST.SAVE_RESULTS_PATH = ""

# How the views of one video are combined, as the original's TestMeter does: "sum" adds
# the views' scores, "max" takes their element-wise maximum (from zero, as the original:
# max(0, score_1, ..., score_V)). The scores are the model's raw logits.
_C.TEST.ENSEMBLE_METHOD = "sum"

# Combine the views' softmax probabilities instead of their raw logits (not the original's
# aggregation: it weighs a confident view less, and can rank videos differently).
_C.TEST.ENSEMBLE_SOFTMAX = False

# ---------------------------------------------------------------------------- #
# Optimizer and learning-rate schedule
# ---------------------------------------------------------------------------- #
_C.SOLVER = CfgNode()

# Learning rate at the top of the schedule.
_C.SOLVER.BASE_LR = 0.1

# "steps_with_relative_lrs" (BASE_LR x LRS[i] from epoch STEPS[i]) or "cosine".
_C.SOLVER.LR_POLICY = "cosine"

# Final learning rate of the cosine policy.
_C.SOLVER.COSINE_END_LR = 0.0

# Epochs at which the steps policies switch to the next entry of LRS.
_C.SOLVER.STEPS = []

# Learning-rate multipliers of the steps policies, one per entry of STEPS.
_C.SOLVER.LRS = []

# Number of training epochs.
_C.SOLVER.MAX_EPOCH = 300

# SGD momentum.
_C.SOLVER.MOMENTUM = 0.9

# SGD momentum dampening.
_C.SOLVER.DAMPENING = 0.0

# Use Nesterov momentum with SGD.
_C.SOLVER.NESTEROV = True

# L2 weight decay, applied to every parameter (as the original).
_C.SOLVER.WEIGHT_DECAY = 1e-4

# No weight decay for biases, normalization weights (every parameter of fewer than two
# dimensions) and the pos_embed, cls_token and time_embed embeddings (PySlowFast's key; not
# the original TimeSformer's recipe, which decays them all).
_C.SOLVER.ZERO_WD_1D_PARAM = False

# Epochs of linear warmup from WARMUP_START_LR to the policy's learning rate.
_C.SOLVER.WARMUP_EPOCHS = 0.0

# Layer-wise learning-rate decay (BEiT's, VideoMAE's): the head and the final norm at the
# learning rate, block i (0-based) at LAYER_DECAY^(DEPTH - i) of it, the embeddings at
# LAYER_DECAY^(DEPTH + 1); 0 < value <= 1. 1.0: every parameter at the same rate (the original).
_C.SOLVER.LAYER_DECAY = 1.0

# Learning rate at the start of the warmup.
_C.SOLVER.WARMUP_START_LR = 0.01

# "sgd", "adam" (weight decay as an L2 term of the gradient) or "adamw" (decoupled weight
# decay); both Adams with betas (0.9, 0.999) and eps 1e-8, as the original.
_C.SOLVER.OPTIMIZING_METHOD = "sgd"

# Multiply BASE_LR by NUM_SHARDS.
_C.SOLVER.BASE_LR_SCALE_NUM_SHARDS = False

# Clip the gradients' global L2 norm to this value; None: no clipping.
_C.SOLVER.CLIP_GRAD_L2NORM = None

# ---------------------------------------------------------------------------- #
# Run
# ---------------------------------------------------------------------------- #

# GPUs per machine (one process each); 0 runs on the CPU.
_C.NUM_GPUS = 1

# CPU processes per machine when NUM_GPUS is 0 (one gloo process group).
_C.NUM_PROCS = 1

# Number of machines in the job.
_C.NUM_SHARDS = 1

# Index of this machine, 0 .. NUM_SHARDS - 1.
_C.SHARD_ID = 0

# Where checkpoints, logs, the final config and results are written.
_C.OUTPUT_DIR = "./tmp"

# Seed of Python, NumPy and PyTorch random generators.
_C.RNG_SEED = 1

# Log training progress every LOG_PERIOD iterations.
_C.LOG_PERIOD = 10

# Log parameter count, FLOPs and activations when a run starts.
_C.LOG_MODEL_INFO = False

# torch.distributed backend for GPU runs (CPU runs use gloo).
_C.DIST_BACKEND = "nccl"

# Seconds the processes of a launched job (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set by a
# launcher without torchrun's agent, e.g. a PyTorchJob) wait for each other at
# MASTER_ADDR:MASTER_PORT before stopping with an error that names it.
_C.DIST_RENDEZVOUS_TIMEOUT = 600

# Samples (clips) per optimizer step over the whole job; when the clips of one iteration,
# NUM_SHARDS x TRAIN.BATCH_SIZE (x DATA.TRAIN_CROP_NUM_TEMPORAL clips per video), are fewer,
# gradients are accumulated over GLOBAL_BATCH_SIZE / (those clips) iterations.
_C.GLOBAL_BATCH_SIZE = 64

# ---------------------------------------------------------------------------- #
# Value types
# ---------------------------------------------------------------------------- #

# The type of every key is its default's (a list's items: its first item's), except for
# the keys below, whose default does not show it: None (unset, the only keys that accept
# None), an empty list, or whole numbers where fractions are fine. A value of another type
# stops the merge, naming the key (timesformer.config.merge).
VALUE_TYPES = {
    "TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN": tuple[str, ...],
    "MIXUP.CUTMIX_MINMAX": list[float],
    "DATA.ENSEMBLE_METHOD": str,
    "SOLVER.STEPS": list[int],
    "SOLVER.LRS": list[float],
    "SOLVER.CLIP_GRAD_L2NORM": float,
    "TENSORBOARD.CONFUSION_MATRIX.FIGSIZE": list[float],
    "TENSORBOARD.HISTOGRAM.FIGSIZE": list[float],
}


def get_cfg() -> CfgNode:
    """Return a fresh copy of the default config."""
    return _C.clone()
