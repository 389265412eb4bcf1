"""The MLflow tracker: the config as params, the json_stats as metrics, the figures and the
checkpoint as artifacts of one MLflow run (``pip install timesformer[mlflow]``).

It talks through an ``MlflowClient`` of its own, never the fluent API's active run, so two runs
in one process (a training and its test, the tests) share no state. Every call runs with
MLflow's HTTP settings shortened (:data:`QUICK_HTTP`) so that a tracking server that does not
answer costs seconds, not MLflow's minutes of retries, before the tracker is dropped.
"""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fvcore.common.config import CfgNode

from timesformer.tracking.tracker import Tracker, default_run_name
from timesformer.utils.logging import get_logger

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mlflow.entities import Run
    from mlflow.tracking import MlflowClient

logger = get_logger(__name__)

QUICK_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}
"""MLflow's HTTP settings during our calls (its defaults: 7 retries, factor 2, 120 s, minutes in
all); a variable the user set is kept."""

UPLOAD_TIMEOUT_S = 300
"""The HTTP timeout of a checkpoint upload instead: a server may take long to answer for a file
of gigabytes."""

RETRY_LOGGER = "urllib3.connectionpool"
"""Logs a warning per retry; quiet during our calls, the tracker's failure is one warning."""

ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
"""MLflow 3 refuses a folder store unless this is true; a TRACKING_URI that names a folder (or
file: URI) asks for one, so our calls set it then."""


@contextmanager
def mlflow_environment(tracking_uri: str, timeout_s: int | None = None) -> Iterator[None]:
    """Set :data:`QUICK_HTTP` (its timeout ``timeout_s`` when given; and
    :data:`ALLOW_FILE_STORE` for a folder ``tracking_uri``) in the environment for the block,
    leaving the variables the user set as they are, and quiet the retries' warnings
    (:data:`RETRY_LOGGER`)."""
    wanted = dict(QUICK_HTTP)
    if timeout_s is not None:
        wanted["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(timeout_s)
    if tracking_uri and _is_folder_uri(tracking_uri):
        wanted[ALLOW_FILE_STORE] = "true"
    added = {name: value for name, value in wanted.items() if name not in os.environ}
    retry_logger = logging.getLogger(RETRY_LOGGER)
    retry_level = retry_logger.level
    os.environ.update(added)
    retry_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        retry_logger.setLevel(retry_level)
        for name in added:
            os.environ.pop(name, None)


def _is_folder_uri(uri: str) -> bool:
    """A local path or ``file:`` URI (not ``sqlite:///``, ``http://``...)."""
    scheme, separator, _ = uri.partition(":")
    is_windows_drive = len(scheme) == 1
    return not separator or scheme == "file" or is_windows_drive


class MlflowTracker(Tracker):
    """One MLflow run in MLFLOW.EXPERIMENT_NAME at MLFLOW.TRACKING_URI."""

    name = "MLflow"
    section = "MLFLOW"
    extra = "mlflow"

    def __init__(
        self, client: "MlflowClient", run: "Run", tracking_uri: str, logs_checkpoints: bool
    ):
        super().__init__(logs_checkpoints)
        self.client = client
        self.tracking_uri = tracking_uri
        self._run_id = run.info.run_id

    @classmethod
    def open(cls, cfg: CfgNode, run_id: str | None) -> "MlflowTracker":
        uri = cfg.MLFLOW.TRACKING_URI
        with mlflow_environment(uri):
            from mlflow.tracking import MlflowClient

            client = MlflowClient(tracking_uri=uri or None)
            run = _reopened_run(client, run_id) if run_id else None
            if run is None:
                run = _new_run(client, cfg)
            else:
                client.update_run(run.info.run_id, status="RUNNING")
        logger.info(
            "MLflow: %s run %s (%s) at %s",
            "continuing" if run_id == run.info.run_id else "new",
            run.info.run_id,
            run.info.run_name,
            client.tracking_uri,
        )
        return cls(client, run, uri, cfg.MLFLOW.LOG_CHECKPOINT)

    @property
    def run_id(self) -> str:
        return self._run_id

    def log_params(self, params: dict[str, str]) -> None:
        """Values cut to MLflow's length limit, sent in batches of its batch limit. A param
        keeps its first value in MLflow: on a continued run, the params the run has are not
        sent again, and those whose value changed since are named in the log."""
        from mlflow.entities import Param
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH

        values = {key: value[:MAX_PARAM_VAL_LENGTH] for key, value in params.items()}
        with mlflow_environment(self.tracking_uri):
            logged = self.client.get_run(self.run_id).data.params
            changed = sorted(key for key in values if key in logged and logged[key] != values[key])
            if changed:
                logger.info(
                    "MLflow keeps a param's first value; changed since the run began: %s",
                    ", ".join(changed),
                )
            new = [Param(key, value) for key, value in values.items() if key not in logged]
            for start in range(0, len(new), MAX_PARAMS_TAGS_PER_BATCH):
                batch = new[start : start + MAX_PARAMS_TAGS_PER_BATCH]
                self.client.log_batch(self.run_id, params=batch)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        timestamp = int(time.time() * 1000)
        batch = [Metric(key, value, timestamp, step) for key, value in metrics.items()]
        with mlflow_environment(self.tracking_uri):
            self.client.log_batch(self.run_id, metrics=batch)

    def log_figure(self, tag: str, figure: "Figure", step: int) -> None:
        """The artifact ``figures/{tag}/step_{step:05d}.png``."""
        with mlflow_environment(self.tracking_uri):
            self.client.log_figure(self.run_id, figure, f"figures/{tag}/step_{step:05d}.png")

    def log_artifact(self, path: str) -> None:
        """The artifact ``checkpoints/{file name}``."""
        with mlflow_environment(self.tracking_uri, timeout_s=UPLOAD_TIMEOUT_S):
            self.client.log_artifact(self.run_id, path, artifact_path="checkpoints")

    def close(self) -> None:
        with mlflow_environment(self.tracking_uri):
            self.client.set_terminated(self.run_id, status="FINISHED")


def _reopened_run(client: "MlflowClient", run_id: str) -> "Run | None":
    """The run ``run_id`` to continue; None (a warning) when the store has no such run, or only
    a deleted one (another TRACKING_URI, a run removed since)."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        run = None
    if run is None or run.info.lifecycle_stage == "deleted":
        logger.warning(
            "MLflow: run %s of trackers.json is not in %s; a new run starts.",
            run_id,
            client.tracking_uri,
        )
        return None
    return run


def _new_run(client: "MlflowClient", cfg: CfgNode) -> "Run":
    """A run named MLFLOW.RUN_NAME (empty: OUTPUT_DIR's folder name) in MLFLOW.EXPERIMENT_NAME,
    the experiment created when missing."""
    experiment = client.get_experiment_by_name(cfg.MLFLOW.EXPERIMENT_NAME)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(cfg.MLFLOW.EXPERIMENT_NAME)
    )
    return client.create_run(experiment_id, run_name=cfg.MLFLOW.RUN_NAME or default_run_name(cfg))
