"""The training loop: learning, exact resume, fine-tuning, accumulation, processes, precision."""

import os
import shutil

import pytest
import timm
import torch

from helpers import (
    json_stats,
    tiny_cfg,
    train_and_save_rank_weights,
    write_color_dataset,
)
from timesformer.checkpoint.training_state import get_path_to_checkpoint, list_checkpoints
from timesformer.config import ConfigError
from timesformer.config.batch import accumulation_steps
from timesformer.engine import trainer
from timesformer.engine.launch import launch_job
from timesformer.engine.trainer import NonFiniteLossError, train, train_epoch
from timesformer.models import build_model
from timesformer.models.optimizer import build_optimizer
from timesformer.utils.meters import TrainMeter


@pytest.fixture(scope="module")
def color_data(tmp_path_factory):
    return write_color_dataset(str(tmp_path_factory.mktemp("color_data")))


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model_state"]


def _assert_same_weights(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=atol, rtol=0), name


def test_loss_falls_on_learnable_data(color_data, tmp_path):
    cfg = tiny_cfg(color_data, str(tmp_path), "SOLVER.MAX_EPOCH", "6", "TRAIN.EVAL_PERIOD", "6")
    train(cfg)
    epochs = [r for r in json_stats(str(tmp_path)) if r["split"] == "train_epoch"]
    assert len(epochs) == 6
    assert epochs[-1]["loss"] < 0.5 * epochs[0]["loss"]
    val = [r for r in json_stats(str(tmp_path)) if r["split"] == "val_epoch"]
    assert val[-1]["top1_err"] == 0.0


def _no_imagenet_weights(*args, **kwargs):
    raise AssertionError("timm.create_model called: ImageNet weights fetched or loaded")


def test_resumed_run_ends_with_same_weights(color_data, tmp_path, monkeypatch):
    straight = str(tmp_path / "straight")
    train(
        tiny_cfg(color_data, straight, "SOLVER.MAX_EPOCH", "3", "SOLVER.OPTIMIZING_METHOD", "adamw")
    )
    # A run "killed" after epoch 2: the same output folder without its last checkpoint.
    resumed = str(tmp_path / "resumed")
    shutil.copytree(straight, resumed)
    os.remove(get_path_to_checkpoint(resumed, 2))
    os.remove(os.path.join(resumed, "stdout.log"))
    monkeypatch.setattr(timm, "create_model", _no_imagenet_weights)
    train(
        tiny_cfg(
            color_data,
            resumed,
            "SOLVER.MAX_EPOCH",
            "3",
            "SOLVER.OPTIMIZING_METHOD",
            "adamw",
            "TIMESFORMER.PRETRAINED_MODEL",
            "",  # the original's ImageNet weights: a resumed run never fetches them
        )
    )
    with open(os.path.join(resumed, "stdout.log")) as log:
        assert "Resumed from" in log.read()
    assert [r["epoch"] for r in json_stats(resumed) if r["split"] == "train_epoch"] == ["3/3"]
    _assert_same_weights(
        _weights(get_path_to_checkpoint(straight, 2)), _weights(get_path_to_checkpoint(resumed, 2))
    )


def test_finetune_to_other_class_count(color_data, tmp_path, monkeypatch):
    source = str(tmp_path / "source")
    train(tiny_cfg(color_data, source, "SOLVER.MAX_EPOCH", "1"))
    monkeypatch.setattr(timm, "create_model", _no_imagenet_weights)
    source_weights = _weights(get_path_to_checkpoint(source, 0))
    target = str(tmp_path / "target")
    cfg = tiny_cfg(
        color_data,
        target,
        "MODEL.NUM_CLASSES",
        "5",
        "SOLVER.MAX_EPOCH",
        "1",
        "SOLVER.BASE_LR",
        "1e-9",
        "TRAIN.CHECKPOINT_FILE_PATH",
        get_path_to_checkpoint(source, 0),
        "TRAIN.FINETUNE",
        "True",
        "TIMESFORMER.PRETRAINED_MODEL",
        "",  # the original's ImageNet weights: fine-tuning never fetches them
    )
    train(cfg)
    tuned = _weights(get_path_to_checkpoint(target, 0))
    assert tuned["model.head.weight"].shape == (5, 32)
    # Everything but the head came from the source (a tiny LR barely moves it).
    for name, value in source_weights.items():
        if not name.startswith("model.head"):
            assert torch.allclose(value, tuned[name], atol=1e-6), name


def _loader(clips, labels, batch_size):
    return [
        (
            clips[i : i + batch_size],
            labels[i : i + batch_size],
            torch.arange(i, i + batch_size),
            {"num_decode_failures": torch.zeros(batch_size, dtype=torch.long)},
        )
        for i in range(0, len(labels), batch_size)
    ]


def _one_epoch(cfg, batches):
    torch.manual_seed(0)
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg)
    train_epoch(batches, model, optimizer, None, TrainMeter(len(batches), cfg), 0, cfg)
    return model.state_dict()


def _constant_lr_cfg(tmp_path, batch_size: int, global_batch_size: int, *overrides: str):
    """A tiny one-epoch run whose learning rate is the same at every iteration."""
    return tiny_cfg(
        "",
        str(tmp_path),
        "TRAIN.BATCH_SIZE",
        str(batch_size),
        "GLOBAL_BATCH_SIZE",
        str(global_batch_size),
        "SOLVER.MAX_EPOCH",
        "1",
        "SOLVER.WARMUP_EPOCHS",
        "0.0",
        "SOLVER.LR_POLICY",
        "steps_with_relative_lrs",
        "SOLVER.STEPS",
        "[0]",
        "SOLVER.LRS",
        "[1.0]",
        *overrides,
    )


def test_accumulated_steps_equal_one_large_batch(tmp_path):
    torch.manual_seed(1)
    clips, labels = torch.randn(8, 3, 2, 32, 32), torch.randint(0, 2, (8,))
    large, small = _constant_lr_cfg(tmp_path, 8, 8), _constant_lr_cfg(tmp_path, 2, 8)
    assert accumulation_steps(small) == 4 and accumulation_steps(large) == 1
    _assert_same_weights(
        _one_epoch(large, _loader(clips, labels, 8)),
        _one_epoch(small, _loader(clips, labels, 2)),
        atol=1e-6,
    )


def test_the_epochs_remainder_of_an_accumulation_is_dropped_as_in_the_original(tmp_path):
    """3 iterations accumulated by 2: the original steps once, on the first two, and drops the
    third's gradients (its weights after the epoch are those of one step on those 4 clips)."""
    torch.manual_seed(1)
    clips, labels = torch.randn(6, 3, 2, 32, 32), torch.randint(0, 2, (6,))
    accumulated = _one_epoch(_constant_lr_cfg(tmp_path, 2, 4), _loader(clips, labels, 2))
    one_step = _one_epoch(_constant_lr_cfg(tmp_path, 4, 4), _loader(clips[:4], labels[:4], 4))
    _assert_same_weights(accumulated, one_step, atol=1e-6)


def test_step_on_epoch_remainder_takes_one_more_step_on_its_gradients(tmp_path):
    torch.manual_seed(1)
    clips, labels = torch.randn(6, 3, 2, 32, 32), torch.randint(0, 2, (6,))
    cfg = _constant_lr_cfg(tmp_path, 2, 4, "TRAIN.STEP_ON_EPOCH_REMAINDER", "True")
    accumulated = _one_epoch(cfg, _loader(clips, labels, 2))
    large, last = _constant_lr_cfg(tmp_path, 4, 4), _constant_lr_cfg(tmp_path, 2, 2)
    torch.manual_seed(0)
    model = build_model(large)
    optimizer = build_optimizer(model, large)
    for step_cfg, batches in (
        (large, _loader(clips[:4], labels[:4], 4)),
        (last, _loader(clips[4:], labels[4:], 2)),
    ):
        train_epoch(batches, model, optimizer, None, TrainMeter(1, step_cfg), 0, step_cfg)
    _assert_same_weights(accumulated, model.state_dict(), atol=1e-6)


def test_an_epoch_shorter_than_one_accumulation_is_refused(tmp_path, color_data):
    cfg = tiny_cfg(color_data, str(tmp_path), "GLOBAL_BATCH_SIZE", "64", "SOLVER.MAX_EPOCH", "1")
    with pytest.raises(ConfigError, match=r"no step would ever be taken.*STEP_ON_EPOCH_REMAINDER"):
        train(cfg)


def test_non_finite_loss_stops_with_epoch_and_iteration(tmp_path):
    cfg = tiny_cfg("", str(tmp_path))
    clips = torch.full((4, 3, 2, 32, 32), float("nan"))
    batches = _loader(clips, torch.zeros(4, dtype=torch.long), 4)
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, iteration 1.*SOLVER\.BASE_LR"):
        _one_epoch(cfg, batches)


def test_two_cpu_processes_match_one_process(color_data, tmp_path):
    single = str(tmp_path / "single")
    train(
        tiny_cfg(
            color_data,
            single,
            "SOLVER.MAX_EPOCH",
            "1",
            "TRAIN.BATCH_SIZE",
            "8",
            "GLOBAL_BATCH_SIZE",
            "8",
        )
    )
    double = str(tmp_path / "double")
    cfg = tiny_cfg(
        color_data,
        double,
        "SOLVER.MAX_EPOCH",
        "1",
        "NUM_PROCS",
        "2",
        "TRAIN.BATCH_SIZE",
        "8",
        "GLOBAL_BATCH_SIZE",
        "8",
        "TEST.BATCH_SIZE",
        "4",
    )
    launch_job(cfg, f"tcp://127.0.0.1:{_free_port()}", train_and_save_rank_weights)
    rank0 = torch.load(os.path.join(double, "rank0.pt"))
    _assert_same_weights(rank0, torch.load(os.path.join(double, "rank1.pt")))
    _assert_same_weights(_weights(get_path_to_checkpoint(single, 0)), rank0, atol=1e-5)


def test_bf16_mixed_precision_trains_on_cpu(color_data, tmp_path):
    train(
        tiny_cfg(
            color_data, str(tmp_path), "SOLVER.MAX_EPOCH", "1", "TRAIN.MIXED_PRECISION", "True"
        )
    )
    epoch = [r for r in json_stats(str(tmp_path)) if r["split"] == "train_epoch"][0]
    assert 0 < epoch["loss"] < 10
    assert len(list_checkpoints(str(tmp_path))) == 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_several_clips_per_video_count_as_clips_in_steps_meters_and_mixup(
    color_data, tmp_path, monkeypatch
):
    """DATA.TRAIN_CROP_NUM_TEMPORAL 2, 2 videos per iteration: 4 clips per iteration, so 2
    iterations are accumulated to step on GLOBAL_BATCH_SIZE 8 clips; the meters weigh each
    iteration by its 4 clips, and Mixup mixes the 4 clips."""
    meter_batches, steps = [], []
    update = TrainMeter.update
    monkeypatch.setattr(
        TrainMeter,
        "update",
        lambda self, *args: meter_batches.append(args[-1]) or update(self, *args),
    )
    step = trainer._optimizer_step
    monkeypatch.setattr(trainer, "_optimizer_step", lambda *args: steps.append(1) or step(*args))
    cfg = tiny_cfg(
        color_data,
        str(tmp_path),
        *("DATA.TRAIN_CROP_NUM_TEMPORAL", "2", "TRAIN.BATCH_SIZE", "2", "GLOBAL_BATCH_SIZE", "8"),
        *("SOLVER.MAX_EPOCH", "1", "MIXUP.ENABLED", "True"),
    )
    train(cfg)
    with open(os.path.join(tmp_path, "stdout.log")) as stream:
        log = stream.read()
    assert "Effective batch: 8 samples per optimizer step (4 per iteration x 2 accumulated" in log
    assert "Each of the 2 videos of an iteration gives 2 clips" in log
    assert meter_batches == [4, 4, 4, 4] and len(steps) == 2  # 8 videos: 4 iterations
    epoch = [r for r in json_stats(str(tmp_path)) if r["split"] == "train_epoch"][0]
    assert 0 < epoch["loss"] < 10
