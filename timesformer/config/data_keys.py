"""Keys of the data: DATA (files, sampling, transforms), DATA_LOADER, AUG and MIXUP, with their
defaults and meaning; part of the tree of :mod:`timesformer.config.defaults`."""

from fvcore.common.config import CfgNode


def add_data_keys(cfg: CfgNode) -> None:
    """Add the DATA, DATA_LOADER, AUG and MIXUP keys to ``cfg``."""
    # ---------------------------------------------------------------------------- #
    # Data
    # ---------------------------------------------------------------------------- #
    cfg.DATA = CfgNode()

    # Folder holding the split files (train.csv, val.csv, test.csv, ...).
    cfg.DATA.PATH_TO_DATA_DIR = ""

    # Separator between path and label in the split files.
    cfg.DATA.PATH_LABEL_SEPARATOR = " "

    # Prefix prepended to every video (or frame) path of the split files.
    cfg.DATA.PATH_PREFIX = ""

    # Several labels per video (PySlowFast's key): split files give each video a comma-separated
    # list of labels ("path 3,17,40"; Charades: its "actions" column), the labels are multi-hot
    # (MODEL.NUM_CLASSES), training takes MODEL.LOSS_FUNC bce_logit, the views of a test video are
    # combined as sigmoid probabilities, and validation and test report the mean average
    # precision ("map") instead of top-k accuracy. See docs/data.md, "Multi-label datasets".
    cfg.DATA.MULTI_LABEL = False

    # Which of the published train/test splits UCF101 and HMDB51 read: 1, 2 or 3.
    cfg.DATA.SPLIT_NUMBER = 1

    # Frames per clip.
    cfg.DATA.NUM_FRAMES = 8

    # Stride between sampled frames, in frames at DATA.TARGET_FPS.
    cfg.DATA.SAMPLING_RATE = 8

    # Per-channel mean (RGB, pixels in [0, 1]) subtracted from the input.
    cfg.DATA.MEAN = [0.45, 0.45, 0.45]

    # Per-channel standard deviation (RGB) dividing the input.
    cfg.DATA.STD = [0.225, 0.225, 0.225]

    # Channels of each input pathway; TimeSformer has one RGB pathway.
    cfg.DATA.INPUT_CHANNEL_NUM = [3]

    # Range of the random short-side scale in training, [min, max] pixels.
    cfg.DATA.TRAIN_JITTER_SCALES = [256, 320]

    # Side of the random square crop in training.
    cfg.DATA.TRAIN_CROP_SIZE = 224

    # Training clips per video (PySlowFast's key): each training video gives this many clips at
    # independent random positions, each with its own spatial augmentation, all read in one
    # decoding pass over the frames their spans cover. A training iteration then takes
    # TRAIN.BATCH_SIZE x TRAIN_CROP_NUM_TEMPORAL clips (labels repeated), and GLOBAL_BATCH_SIZE
    # counts clips. Validation and test clips are unchanged. 1: the original recipe.
    cfg.DATA.TRAIN_CROP_NUM_TEMPORAL = 1

    # Short side, and crop side, at test time.
    cfg.DATA.TEST_CROP_SIZE = 256

    # Videos are resampled to this frame rate before frames are picked.
    cfg.DATA.TARGET_FPS = 30

    # Video decoder; "pyav".
    cfg.DATA.DECODING_BACKEND = "pyav"

    # Sample the jitter scale as 1 / uniform(1 / max, 1 / min) instead of uniformly.
    cfg.DATA.INV_UNIFORM_SAMPLE = False

    # Random horizontal flip in training (off for SSv2, whose labels say left/right).
    cfg.DATA.RANDOM_FLIP = True

    # Reverse the channel order of the input (RGB <-> BGR).
    cfg.DATA.REVERSE_INPUT_CHANNEL = False

    # Kept for YAML files of the original code: when set, its value is moved to
    # TEST.ENSEMBLE_METHOD ("sum" or "max").
    cfg.DATA.ENSEMBLE_METHOD = None

    # Training/validation: how many other samples are tried in place of a video
    # that cannot be decoded before the run stops.
    cfg.DATA.NUM_RETRIES = 10

    # Testing: skip (and count) videos that cannot be decoded instead of failing.
    cfg.DATA.SKIP_BAD_TEST_VIDEOS = False

    # ---------------------------------------------------------------------------- #
    # Data loader
    # ---------------------------------------------------------------------------- #
    cfg.DATA_LOADER = CfgNode()

    # Loader worker processes per training process.
    cfg.DATA_LOADER.NUM_WORKERS = 8

    # Load batches into pinned host memory (GPU runs).
    cfg.DATA_LOADER.PIN_MEMORY = True

    # Let the video codec decode with several threads. False: one thread per video, so that
    # each loader worker uses one core (the way to scale is more workers; see docs/data.md,
    # "Decoding threads").
    cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE = False

    # ---------------------------------------------------------------------------- #
    # Clip augmentation of training clips (PySlowFast's keys): timm's RandAugment and random
    # erasing, drawn once per clip and applied identically to all its frames
    # ---------------------------------------------------------------------------- #
    cfg.AUG = CfgNode()

    # Apply RandAugment (AA_TYPE) and random erasing (RE_PROB) to training clips.
    cfg.AUG.ENABLE = False

    # timm's RandAugment config string, "rand-m<magnitude>-n<ops>" (integers) with optional
    # sections "-mstd<float>" (magnitude noise), "-mmax<int>" (highest magnitude), "-inc<0|1>"
    # (magnitude-increasing ops), "-p<float>" (probability of each op); "": no RandAugment.
    cfg.AUG.AA_TYPE = "rand-m7-n4-mstd0.5-inc1"

    # Interpolation of RandAugment's geometric ops: "bilinear" or "bicubic".
    cfg.AUG.INTERPOLATION = "bicubic"

    # Probability of random erasing per clip (0: off); the same rectangle in every frame.
    cfg.AUG.RE_PROB = 0.25

    # What fills the erased rectangle: "pixel" (per-pixel normal noise), "rand" (one random
    # colour) or "const" (zeros, the mean colour once normalized).
    cfg.AUG.RE_MODE = "pixel"

    # At most this many rectangles per erased clip (timm draws 1 .. RE_COUNT).
    cfg.AUG.RE_COUNT = 1

    # ---------------------------------------------------------------------------- #
    # Mixup / CutMix (timm.data.Mixup)
    # ---------------------------------------------------------------------------- #
    cfg.MIXUP = CfgNode()

    # Apply Mixup/CutMix to training batches.
    cfg.MIXUP.ENABLED = False

    # Mixup alpha; 0 disables mixup.
    cfg.MIXUP.ALPHA = 0.8

    # CutMix alpha; 0 disables cutmix.
    cfg.MIXUP.CUTMIX_ALPHA = 1.0

    # CutMix min/max area ratio, e.g. [0.2, 0.8]; overrides CUTMIX_ALPHA when set.
    cfg.MIXUP.CUTMIX_MINMAX = None

    # Probability of applying mixup or cutmix to a batch.
    cfg.MIXUP.PROB = 1.0

    # Probability of cutmix instead of mixup when both are enabled.
    cfg.MIXUP.SWITCH_PROB = 0.5

    # "batch", "pair" or "elem".
    cfg.MIXUP.MODE = "batch"

    # Label smoothing of the mixed targets.
    cfg.MIXUP.LABEL_SMOOTHING = 0.1
