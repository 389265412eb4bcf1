"""Keys of TensorBoard (scalars and evaluation figures) and of the loader benchmark
(tools/benchmark.py), with their defaults and meaning; part of the tree of
:mod:`timesformer.config.defaults`."""

from fvcore.common.config import CfgNode


def add_tool_keys(cfg: CfgNode) -> None:
    """Add the TENSORBOARD and BENCHMARK keys to ``cfg``."""
    # ---------------------------------------------------------------------------- #
    # TensorBoard
    # ---------------------------------------------------------------------------- #
    cfg.TENSORBOARD = CfgNode()

    # Write TensorBoard event files (scalars after every iteration and epoch).
    cfg.TENSORBOARD.ENABLE = False

    # Event file folder; empty: OUTPUT_DIR/runs-{TRAIN.DATASET}. Relative paths are
    # under OUTPUT_DIR.
    cfg.TENSORBOARD.LOG_DIR = ""

    # Class names: a JSON file {"name": id, ...} or a text file, one name per line.
    cfg.TENSORBOARD.CLASS_NAMES_PATH = ""

    # JSON file {"parent class": ["child class", ...]} grouping classes for plots.
    cfg.TENSORBOARD.CATEGORIES_PATH = ""

    cfg.TENSORBOARD.CONFUSION_MATRIX = CfgNode()

    # Plot the confusion matrix after validation and testing.
    cfg.TENSORBOARD.CONFUSION_MATRIX.ENABLE = False

    # Figure size of the confusion matrix, in inches.
    cfg.TENSORBOARD.CONFUSION_MATRIX.FIGSIZE = [8, 8]

    # Text file of class names (one per line) to restrict the plot to.
    cfg.TENSORBOARD.CONFUSION_MATRIX.SUBSET_PATH = ""

    cfg.TENSORBOARD.HISTOGRAM = CfgNode()

    # Plot, per true class, a histogram of the most frequent predictions.
    cfg.TENSORBOARD.HISTOGRAM.ENABLE = False

    # Text file of class names (one per line) to plot histograms for.
    cfg.TENSORBOARD.HISTOGRAM.SUBSET_PATH = ""

    # Predictions shown per histogram.
    cfg.TENSORBOARD.HISTOGRAM.TOPK = 10

    # Figure size of the histograms, in inches.
    cfg.TENSORBOARD.HISTOGRAM.FIGSIZE = [8, 8]

    # ---------------------------------------------------------------------------- #
    # Benchmarks (tools/benchmark.py)
    # ---------------------------------------------------------------------------- #
    cfg.BENCHMARK = CfgNode()

    # Epochs over the loader in the data-loading benchmark.
    cfg.BENCHMARK.NUM_EPOCHS = 5

    # Report every LOG_PERIOD iterations.
    cfg.BENCHMARK.LOG_PERIOD = 100

    # Shuffle the loader every epoch.
    cfg.BENCHMARK.SHUFFLE = True
