"""Experiment trackers of a run (MLflow, Weights & Biases), called on global rank 0 through one
fan-out, :class:`~timesformer.tracking.trackers.Trackers`. Importing the package loads neither
torch nor a tracker's own package: that is imported when its tracker opens.

* :mod:`~timesformer.tracking.tracker` — the interface every tracker implements
* :mod:`~timesformer.tracking.trackers` — the fan-out: opens the enabled ones, turns a tracker's
  error into one warning and drops it
* :mod:`~timesformer.tracking.config_params` — the config as flat ``KEY.SUB: value`` params
* :mod:`~timesformer.tracking.stats_metrics` — a json_stats record as metrics and their step
* :mod:`~timesformer.tracking.run_ids` — ``OUTPUT_DIR/trackers.json``, so a resumed run
  continues the same tracker runs
* :mod:`~timesformer.tracking.mlflow_tracker`, :mod:`~timesformer.tracking.wandb_tracker`
"""

from timesformer.tracking.trackers import Trackers

__all__ = ["Trackers"]
