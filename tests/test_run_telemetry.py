"""What a training run writes for TensorBoard and the experiment trackers, end to end: the
epoch-level, throughput, memory and test scalars, top-5 only above 5 classes, the LR of each
parameter group when they differ, the HParams entry, and an MLflow run (real mlflow, its folder
store) holding the config, the json_stats of every epoch and the test, continued on resume."""

import json
import os

import pytest
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import run_net, tiny_args, tiny_cfg, write_color_dataset
from timesformer.utils.meters import TrainMeter
from timesformer.visualization.tensorboard_vis import TensorboardWriter


def _scalars(folder: str) -> dict[str, list[tuple[int, float]]]:
    """TensorBoard's scalars of ``folder``, read back with its own event reader."""
    events = EventAccumulator(folder)
    events.Reload()
    return {
        tag: [(event.step, event.value) for event in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
    }


@pytest.fixture(scope="module")
def tracked_run(tmp_path_factory):
    """A 2-epoch run with TensorBoard and MLflow, then its resume to 3 epochs."""
    tmp = tmp_path_factory.mktemp("telemetry")
    data = write_color_dataset(str(tmp / "data"))
    out = str(tmp / "out")
    store = f"file://{tmp / 'mlruns'}"
    overrides = ["TENSORBOARD.ENABLE", "True", "MLFLOW.ENABLE", "True"]
    overrides += ["MLFLOW.TRACKING_URI", store, "MLFLOW.LOG_CHECKPOINT", "True"]
    overrides += ["SOLVER.LAYER_DECAY", "0.5", "TEST.NUM_ENSEMBLE_VIEWS", "1"]
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert run_net(tiny_args(data, out, *overrides)) == 0
    first = _scalars(os.path.join(out, "runs-kinetics"))
    with open(os.path.join(out, "trackers.json")) as stream:
        first_id = json.load(stream)["mlflow"]
    assert run_net(tiny_args(data, out, *overrides, "SOLVER.MAX_EPOCH", "3")) == 0
    return out, store, first, first_id


def test_tensorboard_gets_epoch_throughput_memory_and_test_scalars(tracked_run):
    out, _, scalars, _ = tracked_run
    assert [step for step, _ in scalars["Train/epoch_loss"]] == [0, 1]
    for tag in ("Train/clips_per_s", "Memory/peak_rss_gb"):
        assert len(scalars[tag]) == 2 and all(value > 0 for _, value in scalars[tag]), tag
    assert len(scalars["Train/epoch_Top1_err"]) == 2
    assert all(0 <= value <= 1 for _, value in scalars["Train/data_wait_share"])
    assert len(scalars["Test/Top1_acc"]) == 1
    # 2 classes: no top-5 (always 100%).
    assert not [tag for tag in scalars if "Top5" in tag]
    # SOLVER.LAYER_DECAY: the groups' LRs differ, each is written, Train/lr the largest.
    groups = sorted(tag for tag in scalars if tag.startswith("Train/lr/group_"))
    assert len(groups) >= 3
    final = {tag: scalars[tag][-1][1] for tag in groups}
    assert scalars["Train/lr"][-1][1] == pytest.approx(max(final.values()))
    assert len(set(round(value, 12) for value in final.values())) > 1


def test_the_run_has_an_hparams_entry_with_its_final_metrics(tracked_run):
    out = tracked_run[0]
    hparams = _scalars(os.path.join(out, "runs-kinetics", "hparams"))
    assert {"hparam/best_val_top1_acc", "hparam/test_top1_acc"} <= set(hparams)
    assert "hparam/test_top5_acc" in hparams  # the test's own record has it


def test_mlflow_holds_the_config_every_epoch_the_test_and_continues_on_resume(
    tracked_run, monkeypatch
):
    out, store, _, first_id = tracked_run
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 reads folder stores so
    with open(os.path.join(out, "trackers.json")) as stream:
        assert json.load(stream)["mlflow"] == first_id  # the resume continued the same run
    client = MlflowClient(store)
    run = client.get_run(first_id)
    assert run.data.params["SOLVER.LAYER_DECAY"] == "0.5"
    history = client.get_metric_history(first_id, "train_epoch/loss")
    assert sorted(metric.step for metric in history) == [1, 2, 3]
    assert len(client.get_metric_history(first_id, "val_epoch/top1_err")) == 3
    assert len(client.get_metric_history(first_id, "test_final/top1_acc")) == 2  # 2 tests
    artifacts = [item.path for item in client.list_artifacts(first_id, "checkpoints")]
    assert any(path.endswith(".pyth") for path in artifacts)


def test_top5_scalars_are_written_above_five_classes(tmp_path):
    cfg = tiny_cfg("", str(tmp_path), "TENSORBOARD.ENABLE", "True", "MODEL.NUM_CLASSES", "6")
    writer = TensorboardWriter(cfg)
    meter = TrainMeter(1, cfg)
    meter.update(0.5, 10.0, 1.0, 0.01, batch_size=4)
    writer.write_train_epoch({"loss": 0.5, "top1_err": 10.0, "top5_err": 1.0}, meter, 0)
    writer.close()
    assert "Train/epoch_Top5_err" in _scalars(writer.log_dir)
