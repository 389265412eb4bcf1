"""Keys of what a run shows while it trains (the console, TensorBoard's scalars and evaluation
figures, the MLflow and Weights & Biases trackers) and of the loader benchmark
(tools/benchmark.py), with their defaults and meaning; part of the tree of
:mod:`timesformer.config.defaults`."""

from fvcore.common.config import CfgNode


def add_tool_keys(cfg: CfgNode) -> None:
    """Add the CONSOLE, TENSORBOARD, MLFLOW, WANDB and BENCHMARK keys to ``cfg``."""
    # ---------------------------------------------------------------------------- #
    # Console (global rank 0)
    # ---------------------------------------------------------------------------- #
    cfg.CONSOLE = CfgNode()

    # "auto": a live progress bar per epoch on a terminal, a plain line every LOG_PERIOD
    # iterations elsewhere (Slurm logs, files); "bar" or "lines" whatever the console is;
    # "json": the original's console (the json_stats lines and the whole config). stdout.log
    # holds the json_stats lines and the config whichever it is.
    cfg.CONSOLE.PROGRESS = "auto"

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
    # MLflow (pip install timesformer[mlflow]); global rank 0 logs
    # ---------------------------------------------------------------------------- #
    cfg.MLFLOW = CfgNode()

    # Log the run to MLflow: the config as params, the json_stats as metrics, the figures. A
    # later run in the same OUTPUT_DIR (auto-resume, the test) continues the same MLflow run
    # (its id is kept in OUTPUT_DIR/trackers.json). A tracker that fails is a warning.
    cfg.MLFLOW.ENABLE = False

    # Tracking URI: a server (http://host:5000), a database (sqlite:///path/mlflow.db, with the
    # whole mlflow package) or a folder (a path or file:///...; MLflow 3 keeps folder stores
    # in maintenance mode and refuses them by default, allowed for a URI that names one);
    # empty: MLFLOW_TRACKING_URI, else MLflow's default (MLflow 3: sqlite:///mlflow.db in the
    # working folder).
    cfg.MLFLOW.TRACKING_URI = ""

    # Experiment the run belongs to (created when missing).
    cfg.MLFLOW.EXPERIMENT_NAME = "timesformer"

    # Name of the run; empty: the name of OUTPUT_DIR.
    cfg.MLFLOW.RUN_NAME = ""

    # Upload the last checkpoint as an artifact when training ends.
    cfg.MLFLOW.LOG_CHECKPOINT = False

    # ---------------------------------------------------------------------------- #
    # Weights & Biases (pip install timesformer[wandb]); global rank 0 logs
    # ---------------------------------------------------------------------------- #
    cfg.WANDB = CfgNode()

    # Log the run to W&B: the config, the json_stats as metrics, the figures; its files under
    # OUTPUT_DIR/wandb. A later run in the same OUTPUT_DIR continues the same W&B run (its id is
    # kept in OUTPUT_DIR/trackers.json). A tracker that fails is a warning.
    cfg.WANDB.ENABLE = False

    # Project and entity (team or user; empty: the default entity of the login).
    cfg.WANDB.PROJECT = "timesformer"
    cfg.WANDB.ENTITY = ""

    # Name of the run; empty: the name of OUTPUT_DIR.
    cfg.WANDB.RUN_NAME = ""

    # "online", "offline" (synced later with wandb sync), "disabled"; empty: W&B's own
    # (WANDB_MODE, else online).
    cfg.WANDB.MODE = ""

    # Upload the last checkpoint as an artifact when training ends.
    cfg.WANDB.LOG_CHECKPOINT = False

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
