"""The interface every experiment tracker implements: one open run of one tracking service (an
MLflow run, a Weights & Biases run), written by global rank 0 only."""

import os
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from fvcore.common.config import CfgNode

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def default_run_name(cfg: CfgNode) -> str:
    """The name a run gets when its RUN_NAME key is empty: the name of OUTPUT_DIR's folder."""
    return os.path.basename(os.path.normpath(os.path.abspath(cfg.OUTPUT_DIR)))


class Tracker(ABC):
    """One open run of a tracking service.

    Any method may raise (a server gone, a full disk, a rejected value): the fan-out
    (:class:`~timesformer.tracking.trackers.Trackers`) turns the error into one warning and
    drops the tracker, so a tracker never ends a training run.
    """

    name: str
    """What warnings call it: "MLflow"."""
    section: str
    """Its config node: "MLFLOW" (ENABLE, LOG_CHECKPOINT, ...)."""
    extra: str
    """Its pip extra (``pip install timesformer[mlflow]``) and its entry in trackers.json."""

    def __init__(self, logs_checkpoints: bool):
        self.logs_checkpoints = logs_checkpoints
        """Whether :meth:`log_artifact` receives the run's checkpoint (LOG_CHECKPOINT)."""

    @classmethod
    @abstractmethod
    def open(cls, cfg: CfgNode, run_id: str | None) -> "Tracker":
        """Start a run, or reopen the run ``run_id`` (a resumed training run's); raises
        ImportError when the service's package is not installed."""

    @property
    @abstractmethod
    def run_id(self) -> str:
        """The id that reopens this run (kept in ``OUTPUT_DIR/trackers.json``)."""

    @abstractmethod
    def log_params(self, params: dict[str, str]) -> None:
        """Record ``{"SOLVER.BASE_LR": "0.005", ...}`` (the flattened config)."""

    @abstractmethod
    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Record ``{"train_epoch/loss": 0.5, ...}`` at ``step``; a metric's steps grow."""

    @abstractmethod
    def log_figure(self, tag: str, figure: "Figure", step: int) -> None:
        """Record a matplotlib figure under ``tag`` ("Val/Confusion Matrix") at ``step``."""

    @abstractmethod
    def log_artifact(self, path: str) -> None:
        """Upload the file ``path`` (a checkpoint) to the run."""

    @abstractmethod
    def close(self) -> None:
        """Mark the run finished and flush what is pending."""
