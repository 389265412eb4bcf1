"""The fan-out the training and test loops call: the enabled trackers of a run as one.

A tracker that fails never costs the training run: a tracker that cannot open (its package not
installed, its server unreachable), or whose call raises later, is one warning naming it and the
error, and is dropped for the rest of the run while training goes on.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from fvcore.common.config import CfgNode

from timesformer.tracking.config_params import config_params
from timesformer.tracking.mlflow_tracker import MlflowTracker
from timesformer.tracking.run_ids import read_run_ids, write_run_ids
from timesformer.tracking.stats_metrics import record_metrics
from timesformer.tracking.tracker import Tracker
from timesformer.tracking.wandb_tracker import WandbTracker
from timesformer.utils.logging import get_logger

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = get_logger(__name__)

TRACKER_TYPES: tuple[type[Tracker], ...] = (MlflowTracker, WandbTracker)
"""Every tracker, opened when its config node's ENABLE is True."""


class Trackers:
    """The open trackers of a run; every call goes to each of them. Empty (every call does
    nothing) when no tracker is enabled. Use it on global rank 0 only."""

    def __init__(self, trackers: list[Tracker]):
        self.trackers = list(trackers)
        """The trackers still open (a failing one leaves the list)."""

    @classmethod
    def open(cls, cfg: CfgNode) -> "Trackers":
        """Open the enabled trackers (MLFLOW.ENABLE, WANDB.ENABLE), each continuing the run kept
        in ``OUTPUT_DIR/trackers.json`` when there is one, and keep their run ids there."""
        enabled = [kind for kind in TRACKER_TYPES if cfg[kind.section].ENABLE]
        if not enabled:
            return cls([])
        run_ids = read_run_ids(cfg.OUTPUT_DIR)
        trackers = []
        for kind in enabled:
            tracker = _open(kind, cfg, run_ids.get(kind.extra))
            if tracker is not None:
                trackers.append(tracker)
                run_ids[kind.extra] = tracker.run_id
        if trackers:
            write_run_ids(cfg.OUTPUT_DIR, run_ids)
        return cls(trackers)

    def log_config(self, cfg: CfgNode) -> None:
        """The config as params, ``{"SOLVER.BASE_LR": "0.005", ...}``."""
        params = config_params(cfg)
        self._each("log_params", lambda tracker: tracker.log_params(params))

    def log_record(self, stats: dict) -> None:
        """A json_stats record as metrics (:mod:`~timesformer.tracking.stats_metrics`):
        ``{split}/{field}`` for each numeric field, at the record's global iteration or epoch."""
        if not self.trackers:
            return
        try:
            metrics, step = record_metrics(stats)
        except ValueError as error:
            logger.warning("A json_stats record was not sent to the trackers: %s", error)
            return
        if metrics:
            self._each("log_metrics", lambda tracker: tracker.log_metrics(metrics, step))

    def log_figure(self, tag: str, figure: "Figure", step: int) -> None:
        """A matplotlib figure under ``tag`` ("Val/Confusion Matrix") at ``step``."""
        self._each("log_figure", lambda tracker: tracker.log_figure(tag, figure, step))

    def log_checkpoint(self, path: str) -> None:
        """Upload the checkpoint ``path`` to the trackers whose LOG_CHECKPOINT is True."""
        for tracker in [tracker for tracker in self.trackers if tracker.logs_checkpoints]:
            self._call(tracker, "log_artifact", lambda tracker: tracker.log_artifact(path))

    def close(self) -> None:
        """Finish every tracker's run; the trackers are empty afterwards."""
        self._each("close", lambda tracker: tracker.close())
        self.trackers = []

    def _each(self, what: str, call: Callable[[Tracker], None]) -> None:
        for tracker in list(self.trackers):
            self._call(tracker, what, call)

    def _call(self, tracker: Tracker, what: str, call: Callable[[Tracker], None]) -> None:
        """``call(tracker)``; an error drops the tracker with one warning."""
        try:
            call(tracker)
        except Exception as error:
            self.trackers.remove(tracker)
            logger.warning(
                "%s failed in %s (%s: %s); it is dropped for the rest of the run, which goes on.",
                tracker.name,
                what,
                type(error).__name__,
                error,
            )


def _open(kind: type[Tracker], cfg: CfgNode, run_id: str | None) -> Tracker | None:
    """``kind.open(cfg, run_id)``, or None after one warning when it fails."""
    try:
        return kind.open(cfg, run_id)
    except ImportError as error:
        logger.warning(
            "%s.ENABLE is True but %s cannot be imported (%s): pip install timesformer[%s]. "
            "The run goes on without it.",
            kind.section,
            kind.name,
            error,
            kind.extra,
        )
    except Exception as error:
        logger.warning(
            "%s cannot be opened (%s: %s); the run goes on without it.",
            kind.name,
            type(error).__name__,
            error,
        )
    return None
