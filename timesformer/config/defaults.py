"""The configuration tree: every key a run can set, with its default and meaning.

A run's config is built as ``defaults (this file) <- YAML file <- KEY VALUE
overrides`` (see :func:`timesformer.utils.parser.load_config`) and then checked
and completed by :func:`assert_and_infer_cfg`.

The keys are those of the original TimeSformer code base, so its YAML files load
unchanged, plus the keys this project adds (model size under ``TIMESFORMER``,
``NUM_PROCS``, mixed precision, robustness and speed options). Keys for models
and datasets this project does not ship (SlowFast, AVA, detection) are absent on
purpose: setting one fails with the key's name instead of being ignored.
"""

from fvcore.common.config import CfgNode

from timesformer.config.checks import assert_and_infer_cfg

__all__ = ["get_cfg", "assert_and_infer_cfg"]

_C = CfgNode()

# ---------------------------------------------------------------------------- #
# Training
# ---------------------------------------------------------------------------- #
_C.TRAIN = CfgNode()

# Train the model (then validate every EVAL_PERIOD epochs).
_C.TRAIN.ENABLE = True

# Dataset name as registered in DATASET_REGISTRY: kinetics, ssv2, howto100m.
_C.TRAIN.DATASET = "kinetics"

# Mini-batch size of one machine, summed over its processes (GPUs, or CPU
# processes when NUM_GPUS is 0). Each process loads BATCH_SIZE / processes.
_C.TRAIN.BATCH_SIZE = 64

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
# Model
# ---------------------------------------------------------------------------- #
_C.MODEL = CfgNode()

# Model family; "vit" is the TimeSformer family.
_C.MODEL.ARCH = "vit"

# Name in MODEL_REGISTRY. vit_base_patch16_224 builds the TimeSformer whose size
# comes from the TIMESFORMER keys.
_C.MODEL.MODEL_NAME = "vit_base_patch16_224"

# Number of classes the head predicts.
_C.MODEL.NUM_CLASSES = 400

# Loss: "cross_entropy" (soft-target cross entropy is used with MIXUP).
_C.MODEL.LOSS_FUNC = "cross_entropy"

# The original's head dropout key, kept so that its YAML files (which set 0.5) load: the
# original TimeSformer builds it but never applies it, so the published models were trained
# without head dropout. It has no effect here either; MODEL.HEAD_DROPOUT_RATE applies one.
_C.MODEL.DROPOUT_RATE = 0.5

# Dropout on the pooled feature, before the classification head, in training (not in the
# original code; 0: none, as the original trains).
_C.MODEL.HEAD_DROPOUT_RATE = 0.0

# Label smoothing of the cross-entropy loss (without MIXUP).
_C.MODEL.LABEL_SMOOTHING = 0.0

# Compile the model with torch.compile.
_C.MODEL.COMPILE = False

# ---------------------------------------------------------------------------- #
# TimeSformer
# ---------------------------------------------------------------------------- #
_C.TIMESFORMER = CfgNode()

# Space-time attention: divided_space_time, joint_space_time or space_only.
_C.TIMESFORMER.ATTENTION_TYPE = "divided_space_time"

# ImageNet weights a training run starts from when it has nothing to resume or fine-tune
# from (no checkpoint in OUTPUT_DIR, no TRAIN.CHECKPOINT_FILE_PATH); testing and the tools
# never load them. As in the original: empty means the original's weights, timm's
# vit_base_patch16_224.orig_in21k_ft_in1k (jx_vit_base_p16_224-80ecf9dd.pth, a ViT-Base/16),
# downloaded once into timm's cache (Hugging Face hub cache); a path is a local ViT state dict
# (.pth/.pt/.bin/.safetensors, or the JAX .npz). Also: any timm model name whose weights
# timm has, or "none" for random initialization (training from scratch).
_C.TIMESFORMER.PRETRAINED_MODEL = ""

# Token width. Defaults: ViT-Base/16.
_C.TIMESFORMER.EMBED_DIM = 768

# Number of transformer blocks.
_C.TIMESFORMER.DEPTH = 12

# Attention heads per block; must divide EMBED_DIM.
_C.TIMESFORMER.NUM_HEADS = 12

# Side of the square patches; must divide the crop sizes.
_C.TIMESFORMER.PATCH_SIZE = 16

# Hidden width of the MLP as a multiple of EMBED_DIM.
_C.TIMESFORMER.MLP_RATIO = 4.0

# Stochastic depth rate of the last block, rising linearly from 0 over depth.
_C.TIMESFORMER.DROP_PATH_RATE = 0.1

# Std of the truncated-normal initialization of the linear layers (attention,
# MLP, head), as in the official code: 0.02, right for ViT-Base widths. Training a
# small model from scratch, attention that starts nearly uniform (0.02 at width 64)
# learns slowly; about 1.5 / sqrt(EMBED_DIM) makes it pick tokens from the first step.
# Pretrained or loaded weights replace this initialization.
_C.TIMESFORMER.INIT_STD = 0.02

# Std of the random initialization of the time embedding; 0: zeros, as the official
# code, so that a model built on image weights starts as the image model (and is
# blind to frame order until the embedding grows). Training from scratch, about 1.0
# lets attention tell frames apart from the first step.
_C.TIMESFORMER.TIME_EMBED_INIT_STD = 0.0

# Recompute each block's activations in the backward pass (less memory for long
# clips, about one more forward pass of compute).
_C.TIMESFORMER.ACTIVATION_CHECKPOINTING = False

# ---------------------------------------------------------------------------- #
# Mixup / CutMix (timm.data.Mixup)
# ---------------------------------------------------------------------------- #
_C.MIXUP = CfgNode()

# Apply Mixup/CutMix to training batches.
_C.MIXUP.ENABLED = False

# Mixup alpha; 0 disables mixup.
_C.MIXUP.ALPHA = 0.8

# CutMix alpha; 0 disables cutmix.
_C.MIXUP.CUTMIX_ALPHA = 1.0

# CutMix min/max area ratio, e.g. [0.2, 0.8]; overrides CUTMIX_ALPHA when set.
_C.MIXUP.CUTMIX_MINMAX = None

# Probability of applying mixup or cutmix to a batch.
_C.MIXUP.PROB = 1.0

# Probability of cutmix instead of mixup when both are enabled.
_C.MIXUP.SWITCH_PROB = 0.5

# "batch", "pair" or "elem".
_C.MIXUP.MODE = "batch"

# Label smoothing of the mixed targets.
_C.MIXUP.LABEL_SMOOTHING = 0.1

# ---------------------------------------------------------------------------- #
# Data
# ---------------------------------------------------------------------------- #
_C.DATA = CfgNode()

# Folder holding the split files (train.csv, val.csv, test.csv, ...).
_C.DATA.PATH_TO_DATA_DIR = ""

# Separator between path and label in the split files.
_C.DATA.PATH_LABEL_SEPARATOR = " "

# Prefix prepended to every video (or frame) path of the split files.
_C.DATA.PATH_PREFIX = ""

# Frames per clip.
_C.DATA.NUM_FRAMES = 8

# Stride between sampled frames, in frames at DATA.TARGET_FPS.
_C.DATA.SAMPLING_RATE = 8

# Per-channel mean (RGB, pixels in [0, 1]) subtracted from the input.
_C.DATA.MEAN = [0.45, 0.45, 0.45]

# Per-channel standard deviation (RGB) dividing the input.
_C.DATA.STD = [0.225, 0.225, 0.225]

# Channels of each input pathway; TimeSformer has one RGB pathway.
_C.DATA.INPUT_CHANNEL_NUM = [3]

# Range of the random short-side scale in training, [min, max] pixels.
_C.DATA.TRAIN_JITTER_SCALES = [256, 320]

# Side of the random square crop in training.
_C.DATA.TRAIN_CROP_SIZE = 224

# Short side, and crop side, at test time.
_C.DATA.TEST_CROP_SIZE = 256

# Videos are resampled to this frame rate before frames are picked.
_C.DATA.TARGET_FPS = 30

# Video decoder; "pyav".
_C.DATA.DECODING_BACKEND = "pyav"

# Sample the jitter scale as 1 / uniform(1 / max, 1 / min) instead of uniformly.
_C.DATA.INV_UNIFORM_SAMPLE = False

# Random horizontal flip in training (off for SSv2, whose labels say left/right).
_C.DATA.RANDOM_FLIP = True

# Reverse the channel order of the input (RGB <-> BGR).
_C.DATA.REVERSE_INPUT_CHANNEL = False

# Kept for YAML files of the original code: when set, its value is moved to
# TEST.ENSEMBLE_METHOD ("sum" or "max").
_C.DATA.ENSEMBLE_METHOD = None

# Training/validation: how many other samples are tried in place of a video
# that cannot be decoded before the run stops.
_C.DATA.NUM_RETRIES = 10

# Testing: skip (and count) videos that cannot be decoded instead of failing.
_C.DATA.SKIP_BAD_TEST_VIDEOS = False

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

# Learning rate at the start of the warmup.
_C.SOLVER.WARMUP_START_LR = 0.01

# "sgd" or "adamw".
_C.SOLVER.OPTIMIZING_METHOD = "sgd"

# Multiply BASE_LR by NUM_SHARDS.
_C.SOLVER.BASE_LR_SCALE_NUM_SHARDS = False

# Clip the gradients' global L2 norm to this value; None: no clipping.
_C.SOLVER.CLIP_GRAD_L2NORM = None

# ---------------------------------------------------------------------------- #
# Data loader
# ---------------------------------------------------------------------------- #
_C.DATA_LOADER = CfgNode()

# Loader worker processes per training process.
_C.DATA_LOADER.NUM_WORKERS = 8

# Load batches into pinned host memory (GPU runs).
_C.DATA_LOADER.PIN_MEMORY = True

# Let the video codec decode with several threads.
_C.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE = False

# ---------------------------------------------------------------------------- #
# TensorBoard
# ---------------------------------------------------------------------------- #
_C.TENSORBOARD = CfgNode()

# Write TensorBoard event files (scalars after every iteration and epoch).
_C.TENSORBOARD.ENABLE = False

# Event file folder; empty: OUTPUT_DIR/runs-{TRAIN.DATASET}. Relative paths are
# under OUTPUT_DIR.
_C.TENSORBOARD.LOG_DIR = ""

# Class names: a JSON file {"name": id, ...} or a text file, one name per line.
_C.TENSORBOARD.CLASS_NAMES_PATH = ""

# JSON file {"parent class": ["child class", ...]} grouping classes for plots.
_C.TENSORBOARD.CATEGORIES_PATH = ""

_C.TENSORBOARD.CONFUSION_MATRIX = CfgNode()

# Plot the confusion matrix after validation and testing.
_C.TENSORBOARD.CONFUSION_MATRIX.ENABLE = False

# Figure size of the confusion matrix, in inches.
_C.TENSORBOARD.CONFUSION_MATRIX.FIGSIZE = [8, 8]

# Text file of class names (one per line) to restrict the plot to.
_C.TENSORBOARD.CONFUSION_MATRIX.SUBSET_PATH = ""

_C.TENSORBOARD.HISTOGRAM = CfgNode()

# Plot, per true class, a histogram of the most frequent predictions.
_C.TENSORBOARD.HISTOGRAM.ENABLE = False

# Text file of class names (one per line) to plot histograms for.
_C.TENSORBOARD.HISTOGRAM.SUBSET_PATH = ""

# Predictions shown per histogram.
_C.TENSORBOARD.HISTOGRAM.TOPK = 10

# Figure size of the histograms, in inches.
_C.TENSORBOARD.HISTOGRAM.FIGSIZE = [8, 8]

# ---------------------------------------------------------------------------- #
# Benchmarks (tools/benchmark.py)
# ---------------------------------------------------------------------------- #
_C.BENCHMARK = CfgNode()

# Epochs over the loader in the data-loading benchmark.
_C.BENCHMARK.NUM_EPOCHS = 5

# Report every LOG_PERIOD iterations.
_C.BENCHMARK.LOG_PERIOD = 100

# Shuffle the loader every epoch.
_C.BENCHMARK.SHUFFLE = True

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

# Samples per optimizer step over the whole job; when NUM_SHARDS x
# TRAIN.BATCH_SIZE is smaller, gradients are accumulated over
# GLOBAL_BATCH_SIZE / (NUM_SHARDS x TRAIN.BATCH_SIZE) iterations.
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
