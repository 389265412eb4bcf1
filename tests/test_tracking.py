"""timesformer.tracking: the MLflow and Weights & Biases trackers against the real packages (an
MLflow folder store and W&B offline runs under tmp_path, no network), the fan-out's warnings
and dropping, resuming through trackers.json, and the json_stats records as metrics."""

import glob
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import time

import pytest
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient
from wandb.proto import wandb_internal_pb2

from timesformer.config import get_cfg
from timesformer.tracking import Trackers
from timesformer.tracking.mlflow_tracker import QUICK_HTTP, MlflowTracker
from timesformer.tracking.run_ids import RUN_IDS_FILE
from timesformer.tracking.stats_metrics import record_metrics
from timesformer.tracking.tracker import Tracker

TRAIN_ITER = {
    "split": "train_iter",
    "epoch": "2/10",
    "iter": "40/120",
    "loss": 0.5,
    "top1_err": 12.0,
    "top5_err": 1.0,
    "lr": 0.001,
    "time_diff": 0.3,
    "data_time": 0.01,
    "eta": "0:10:00",
    "ram_gb": 1.2,
}


def _epoch(split: str, epoch: int, **values) -> dict:
    return {"split": split, "epoch": f"{epoch}/10", **values}


TEST_FINAL = {"split": "test_final", "top1_acc": 80.0, "top5_acc": 95.0, "videos": 4}


@pytest.fixture(autouse=True)
def tracker_environment(tmp_path, monkeypatch):
    """No tracker reads this machine's settings or writes outside tmp_path; W&B never goes
    online, prints nothing and captures no console."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in ("WANDB_API_KEY", "WANDB_ENTITY", "WANDB_PROJECT", "WANDB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONSOLE", "off")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    for name, folder in (
        ("WANDB_DIR", "wandb_dir"),
        ("WANDB_CONFIG_DIR", "wandb_config"),
        ("WANDB_CACHE_DIR", "wandb_cache"),
        ("WANDB_DATA_DIR", "wandb_data"),
        ("WANDB_ARTIFACT_DIR", "wandb_artifacts"),
    ):
        monkeypatch.setenv(name, str(tmp_path / folder))


def _cfg(tmp_path, *overrides: str):
    cfg = get_cfg()
    cfg.merge_from_list(["OUTPUT_DIR", str(tmp_path / "run_a"), *overrides])
    return cfg


def _mlflow_cfg(tmp_path, *overrides: str):
    return _cfg(
        tmp_path,
        "MLFLOW.ENABLE",
        "True",
        "MLFLOW.TRACKING_URI",
        str(tmp_path / "mlruns"),
        *overrides,
    )


def _wandb_cfg(tmp_path, *overrides: str):
    return _cfg(tmp_path, "WANDB.ENABLE", "True", "WANDB.MODE", "offline", *overrides)


def _figure() -> Figure:
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    return figure


def _checkpoint(tmp_path) -> str:
    path = tmp_path / "run_a" / "checkpoints" / "checkpoint_epoch_00001.pyth"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    return str(path)


def _run_ids(cfg) -> dict:
    with open(os.path.join(cfg.OUTPUT_DIR, RUN_IDS_FILE), encoding="utf-8") as stream:
        return json.load(stream)


def _history(cfg, run_id: str, key: str) -> list[tuple[int, float]]:
    client = MlflowClient(cfg.MLFLOW.TRACKING_URI)
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def _warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


# ---------------------------------------------------------------------------- #
# json_stats records and the fan-out
# ---------------------------------------------------------------------------- #


def test_a_record_gives_its_numeric_fields_at_its_step():
    metrics, step = record_metrics(TRAIN_ITER)
    assert step == (2 - 1) * 120 + 40
    assert metrics["train_iter/loss"] == 0.5 and metrics["train_iter/ram_gb"] == 1.2
    assert not {"train_iter/epoch", "train_iter/iter", "train_iter/eta"} & set(metrics)
    assert record_metrics(_epoch("val_epoch", 3, top1_err=20.0, ok=True)) == (
        {"val_epoch/top1_err": 20.0},
        3,
    )
    assert record_metrics(TEST_FINAL) == (
        {"test_final/top1_acc": 80.0, "test_final/top5_acc": 95.0, "test_final/videos": 4.0},
        0,
    )


def test_no_tracker_enabled_opens_nothing(tmp_path):
    cfg = _cfg(tmp_path)
    trackers = Trackers.open(cfg)
    assert trackers.trackers == []
    trackers.log_config(cfg)
    trackers.log_record(TRAIN_ITER)
    trackers.close()
    assert not os.path.exists(os.path.join(cfg.OUTPUT_DIR, RUN_IDS_FILE))


def test_importing_the_package_loads_no_torch_and_no_tracker():
    code = (
        "import sys, timesformer.tracking; "
        "print(sorted({'torch', 'mlflow', 'wandb', 'matplotlib'} & set(sys.modules)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


class _Broken(Tracker):
    """A tracker whose metrics raise (a server gone)."""

    name, section, extra = "Broken", "BROKEN", "broken"

    @classmethod
    def open(cls, cfg, run_id):
        return cls(logs_checkpoints=False)

    @property
    def run_id(self):
        return "broken"

    def log_params(self, params):
        pass

    def log_metrics(self, metrics, step):
        raise ConnectionError("server gone")

    def log_figure(self, tag, figure, step):
        pass

    def log_artifact(self, path):
        pass

    def close(self):
        pass


def test_a_failing_tracker_is_one_warning_and_dropped(tmp_path, caplog):
    cfg = _mlflow_cfg(tmp_path)
    mlflow = MlflowTracker.open(cfg, None)
    trackers = Trackers([_Broken(False), mlflow])
    with caplog.at_level(logging.WARNING):
        trackers.log_record(_epoch("train_epoch", 1, loss=0.5))
        trackers.log_record(_epoch("train_epoch", 2, loss=0.4))
        trackers.close()
    (warning,) = _warnings(caplog)
    assert "Broken" in warning and "ConnectionError: server gone" in warning
    assert "dropped" in warning
    assert trackers.trackers == []
    assert _history(cfg, mlflow.run_id, "train_epoch/loss") == [(1, 0.5), (2, 0.4)]


def test_missing_packages_are_one_warning_each_naming_the_extra(tmp_path, monkeypatch, caplog):
    for module in ("mlflow", "mlflow.tracking", "wandb"):
        monkeypatch.setitem(sys.modules, module, None)
    cfg = _mlflow_cfg(tmp_path, "WANDB.ENABLE", "True")
    with caplog.at_level(logging.WARNING):
        trackers = Trackers.open(cfg)
    assert trackers.trackers == []
    mlflow_warning, wandb_warning = _warnings(caplog)
    assert "pip install timesformer[mlflow]" in mlflow_warning
    assert "pip install timesformer[wandb]" in wandb_warning
    assert not os.path.exists(os.path.join(cfg.OUTPUT_DIR, RUN_IDS_FILE))


def test_an_unreachable_mlflow_server_is_a_warning_within_seconds(tmp_path, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = _cfg(tmp_path, "MLFLOW.ENABLE", "True", "MLFLOW.TRACKING_URI", f"http://127.0.0.1:{port}")
    environment = {name: os.environ.get(name) for name in QUICK_HTTP}
    start = time.monotonic()
    with caplog.at_level(logging.WARNING):
        trackers = Trackers.open(cfg)
    assert time.monotonic() - start < 30  # MLflow's own retries take minutes
    assert trackers.trackers == []
    (warning,) = _warnings(caplog)
    assert warning.startswith("MLflow cannot be opened") and str(port) in warning
    assert {name: os.environ.get(name) for name in QUICK_HTTP} == environment  # ours only


# ---------------------------------------------------------------------------- #
# MLflow
# ---------------------------------------------------------------------------- #


def test_mlflow_logs_params_metrics_figures_and_the_checkpoint(tmp_path):
    cfg = _mlflow_cfg(tmp_path, "MLFLOW.LOG_CHECKPOINT", "True")
    trackers = Trackers.open(cfg)
    trackers.log_config(cfg)
    trackers.log_record(TRAIN_ITER)
    trackers.log_record(_epoch("train_epoch", 2, loss=0.4, eta="0:01:00"))
    trackers.log_record(_epoch("val_epoch", 2, top1_err=30.0, min_top1_err=30.0))
    trackers.log_record(TEST_FINAL)
    trackers.log_figure("Val/Confusion Matrix", _figure(), 2)
    trackers.log_checkpoint(_checkpoint(tmp_path))
    trackers.close()

    run_id = _run_ids(cfg)["mlflow"]
    client = MlflowClient(cfg.MLFLOW.TRACKING_URI)
    run = client.get_run(run_id)
    assert run.info.run_name == "run_a" and run.info.status == "FINISHED"
    assert run.data.params["SOLVER.BASE_LR"] == str(cfg.SOLVER.BASE_LR)
    assert run.data.params["DATA.MEAN"] == str(cfg.DATA.MEAN)
    assert _history(cfg, run_id, "train_iter/loss") == [(160, 0.5)]
    assert _history(cfg, run_id, "train_epoch/loss") == [(2, 0.4)]
    assert _history(cfg, run_id, "val_epoch/min_top1_err") == [(2, 30.0)]
    assert _history(cfg, run_id, "test_final/top1_acc") == [(0, 80.0)]
    assert "train_epoch/eta" not in run.data.metrics
    figures = client.list_artifacts(run_id, "figures/Val/Confusion Matrix")
    assert [item.path for item in figures] == ["figures/Val/Confusion Matrix/step_00002.png"]
    checkpoints = client.list_artifacts(run_id, "checkpoints")
    assert [item.path for item in checkpoints] == ["checkpoints/checkpoint_epoch_00001.pyth"]


def test_mlflow_cuts_long_values_and_batches_many_params(tmp_path):
    tracker = MlflowTracker.open(_mlflow_cfg(tmp_path), None)
    params = {f"KEY.NUMBER_{index}": str(index) for index in range(250)}
    tracker.log_params({**params, "TRAIN.LONG": "x" * 7000})
    logged = tracker.client.get_run(tracker.run_id).data.params
    assert len(logged) == 251 and logged["KEY.NUMBER_249"] == "249"
    assert logged["TRAIN.LONG"] == "x" * 6000
    tracker.close()


def test_no_checkpoint_goes_to_mlflow_without_log_checkpoint(tmp_path):
    cfg = _mlflow_cfg(tmp_path)
    trackers = Trackers.open(cfg)
    trackers.log_checkpoint(_checkpoint(tmp_path))
    trackers.close()
    assert MlflowClient(cfg.MLFLOW.TRACKING_URI).list_artifacts(_run_ids(cfg)["mlflow"]) == []


def test_mlflow_resume_continues_the_same_run(tmp_path, caplog):
    cfg = _mlflow_cfg(tmp_path)
    first = Trackers.open(cfg)
    first.log_config(cfg)
    first.log_record(_epoch("train_epoch", 1, loss=0.5))
    first.close()
    cfg.SOLVER.MAX_EPOCH = 20  # an extended run: MLflow keeps the first value
    second = Trackers.open(cfg)
    with caplog.at_level(logging.INFO):
        second.log_config(cfg)
    second.log_record(_epoch("train_epoch", 2, loss=0.4))
    second.close()

    run_id = _run_ids(cfg)["mlflow"]
    client = MlflowClient(cfg.MLFLOW.TRACKING_URI)
    experiment = client.get_experiment_by_name(cfg.MLFLOW.EXPERIMENT_NAME)
    assert [run.info.run_id for run in client.search_runs([experiment.experiment_id])] == [run_id]
    assert _history(cfg, run_id, "train_epoch/loss") == [(1, 0.5), (2, 0.4)]
    run = client.get_run(run_id)
    assert run.data.params["SOLVER.MAX_EPOCH"] == "300" and run.info.status == "FINISHED"
    assert "SOLVER.MAX_EPOCH" in caplog.text


def test_a_damaged_trackers_file_is_a_warning_and_a_new_run(tmp_path, caplog):
    cfg = _mlflow_cfg(tmp_path)
    os.makedirs(cfg.OUTPUT_DIR)
    with open(os.path.join(cfg.OUTPUT_DIR, RUN_IDS_FILE), "w") as stream:
        stream.write('{"mlflow": ')
    with caplog.at_level(logging.WARNING):
        trackers = Trackers.open(cfg)
    assert len(trackers.trackers) == 1
    assert RUN_IDS_FILE in caplog.text and "new runs" in caplog.text
    assert _run_ids(cfg) == {"mlflow": trackers.trackers[0].run_id}
    trackers.close()


# ---------------------------------------------------------------------------- #
# Weights & Biases (offline runs)
# ---------------------------------------------------------------------------- #


def _wandb_records(path: str):
    """The protobuf records of the ``.wandb`` file ``path``: W&B's LevelDB-style log, a 7-byte
    header (":W&B", magic, version), then 32 KiB blocks of chunks (CRC-32C, length, type:
    1 full, 2 first, 3 middle, 4 last)."""
    with open(path, "rb") as stream:
        data = stream.read()
    assert data[:4] == b":W&B"
    block, position, pending = 32768, 7, b""
    while position + 7 <= len(data):
        left = block - position % block
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if left < 7 or (length, kind) == (0, 0):  # the zero padding at a block's end
            position += left
            continue
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def _wandb_run_files(cfg) -> list[str]:
    """The ``.wandb`` files of OUTPUT_DIR's offline runs, once complete: W&B's service process
    writes a finished run's file shortly after ``run.finish()`` returns."""
    files = sorted(glob.glob(os.path.join(cfg.OUTPUT_DIR, "wandb", "offline-run-*", "*.wandb")))
    deadline = time.monotonic() + 30
    while not all(_has_exit_record(path) for path in files):
        assert time.monotonic() < deadline, "W&B did not finish writing its offline run"
        time.sleep(0.05)
    return files


def _has_exit_record(path: str) -> bool:
    if os.path.getsize(path) <= 7:
        return False
    return any(r.WhichOneof("record_type") == "exit" for r in _wandb_records(path))


def _wandb_history(path: str) -> list[dict]:
    return [
        {
            item.key or "/".join(item.nested_key): json.loads(item.value_json)
            for item in r.history.item
        }
        for r in _wandb_records(path)
        if r.WhichOneof("record_type") == "history"
    ]


def test_wandb_offline_run_logs_config_metrics_figures_and_the_checkpoint(tmp_path):
    cfg = _wandb_cfg(tmp_path, "WANDB.LOG_CHECKPOINT", "True")
    trackers = Trackers.open(cfg)
    trackers.log_config(cfg)
    trackers.log_record(TRAIN_ITER)
    trackers.log_record(_epoch("train_epoch", 2, loss=0.4))
    trackers.log_figure("Val/Confusion Matrix", _figure(), 2)
    trackers.log_checkpoint(_checkpoint(tmp_path))
    trackers.close()
    assert trackers.trackers == []

    (path,) = _wandb_run_files(cfg)
    records = list(_wandb_records(path))
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.run_id == _run_ids(cfg)["wandb"] and run.display_name == "run_a"
    config = {
        item.key: json.loads(item.value_json)
        for r in records
        if r.WhichOneof("record_type") == "config"
        for item in r.config.update
    }
    assert config["SOLVER.BASE_LR"] == str(cfg.SOLVER.BASE_LR)
    history = _wandb_history(path)
    assert history[0]["train_iter/loss"] == 0.5 and history[0]["train_iter/step"] == 160
    assert history[1]["train_epoch/loss"] == 0.4 and history[1]["train_epoch/step"] == 2
    image = os.path.join(os.path.dirname(path), "files", history[2]["Val/Confusion Matrix/path"])
    assert history[2]["Val/Confusion Matrix/_type"] == "image-file" and os.path.isfile(image)
    assert history[2]["Val/step"] == 2
    step_metrics = {
        r.metric.glob_name: r.metric.step_metric
        for r in records
        if r.WhichOneof("record_type") == "metric" and r.metric.glob_name
    }
    assert step_metrics["train_iter/*"] == "train_iter/step"
    artifacts = [r.artifact for r in records if r.WhichOneof("record_type") == "artifact"]
    assert [(a.type, a.name) for a in artifacts] == [("model", f"model-{run.run_id}")]


def test_wandb_resume_keeps_the_run_id(tmp_path):
    cfg = _wandb_cfg(tmp_path)
    first = Trackers.open(cfg)
    first.log_record(_epoch("train_epoch", 1, loss=0.5))
    first.close()
    run_id = _run_ids(cfg)["wandb"]
    second = Trackers.open(cfg)
    assert second.trackers[0].run_id == run_id
    second.log_record(_epoch("train_epoch", 2, loss=0.4))
    second.close()
    assert _run_ids(cfg) == {"wandb": run_id}
    files = _wandb_run_files(cfg)  # an offline run's folder per wandb.init
    assert len(files) == 2 and all(path.endswith(f"run-{run_id}.wandb") for path in files)
    steps = sorted(h["train_epoch/step"] for path in files for h in _wandb_history(path))
    assert steps == [1, 2]
