"""timesformer.checkpoint.training_state: atomic writes, finding the last complete checkpoint,
what crashed or damaged writes leave, and resuming."""

import logging
import os

import pytest
import torch

from helpers import tiny_cfg, write_color_dataset
from timesformer.checkpoint.files import CheckpointError, read_checkpoint
from timesformer.checkpoint.training_state import (
    get_last_checkpoint,
    get_path_to_checkpoint,
    resume_training_state,
    save_checkpoint,
    tidy_checkpoint_dir,
)
from timesformer.engine.trainer import train
from timesformer.models import build_model
from timesformer.models.optimizer import build_optimizer
from timesformer.utils.file_io import DiskFullError, atomic_write


def _write(output_dir, epoch, value):
    with atomic_write(get_path_to_checkpoint(output_dir, epoch)) as stream:
        torch.save({"epoch": epoch, "model_state": {"w": torch.tensor([value])}}, stream)


def test_names_and_last_checkpoint(tmp_path):
    _write(str(tmp_path), 0, 1.0)
    _write(str(tmp_path), 1, 2.0)
    assert get_path_to_checkpoint(str(tmp_path), 1).endswith(
        "checkpoints/checkpoint_epoch_00002.pyth"
    )
    assert get_last_checkpoint(str(tmp_path)) == get_path_to_checkpoint(str(tmp_path), 1)


def test_interrupted_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    _write(str(tmp_path), 0, 1.0)

    def crash_midway(obj, stream):
        stream.write(b"half a checkpoint")
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        _write(str(tmp_path), 1, 2.0)
    monkeypatch.undo()
    folder = os.path.join(str(tmp_path), "checkpoints")
    assert os.listdir(folder) == ["checkpoint_epoch_00001.pyth"]
    last = get_last_checkpoint(str(tmp_path))
    assert torch.load(last, weights_only=False)["model_state"]["w"].item() == 1.0


def test_damaged_newest_checkpoint_falls_back_to_previous(tmp_path):
    _write(str(tmp_path), 0, 1.0)
    damaged = get_path_to_checkpoint(str(tmp_path), 1)
    with open(damaged, "wb") as stream:
        stream.write(b"\x80\x02garbage")
    assert get_last_checkpoint(str(tmp_path)) == get_path_to_checkpoint(str(tmp_path), 0)


def test_full_disk_is_named_and_keeps_the_previous_checkpoint(tmp_path):
    """The write goes to /dev/full, which fails as a full disk does (ENOSPC); torch.save turns
    that into 'unexpected pos'."""
    if not os.access("/dev/full", os.W_OK):
        pytest.skip("no /dev/full")
    output_dir = str(tmp_path)
    cfg = tiny_cfg("", output_dir)
    model, optimizer = torch.nn.Linear(2, 2), None
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    first = save_checkpoint(cfg, model, optimizer, 0)
    before = open(first, "rb").read()
    path = get_path_to_checkpoint(output_dir, 0)
    os.symlink("/dev/full", f"{path}.tmp.{os.getpid()}")  # where atomic_write writes
    with pytest.raises(DiskFullError) as error:
        save_checkpoint(cfg, model, optimizer, 0)
    message = str(error.value)
    assert message.startswith(f"No space left on device writing {path} (the previous file is")
    assert f"OUTPUT_DIR {output_dir}" in message
    assert open(first, "rb").read() == before
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]


def test_stale_partial_files_are_removed_and_live_ones_kept(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    pid_max = int(open("/proc/sys/kernel/pid_max").read()) if os.path.exists("/proc") else 2**22
    dead = folder / f"checkpoint_epoch_00003.pyth.tmp.{pid_max + 1}"
    own = tmp_path / f"config.yaml.tmp.{os.getpid()}"
    alive = folder / f"checkpoint_epoch_00004.pyth.tmp.{os.getppid()}"  # a running process
    for path in (dead, own, alive):
        path.write_bytes(b"partial")
    tidy_checkpoint_dir(str(tmp_path))
    assert not dead.exists() and not own.exists() and alive.exists()


def test_unreadable_checkpoints_are_set_aside_loudly(tmp_path, caplog):
    _write(str(tmp_path), 0, 1.0)
    for epoch in (1, 2):
        with open(get_path_to_checkpoint(str(tmp_path), epoch), "wb") as stream:
            stream.write(b"\x80\x02garbage")
    with caplog.at_level(logging.ERROR):
        tidy_checkpoint_dir(str(tmp_path))
    folder = os.path.join(str(tmp_path), "checkpoints")
    assert sorted(os.listdir(folder)) == [
        "checkpoint_epoch_00001.pyth",
        "checkpoint_epoch_00002.pyth.unreadable",
        "checkpoint_epoch_00003.pyth.unreadable",
    ]
    assert "2 unreadable checkpoint(s) set aside" in caplog.text
    assert "resuming from" in caplog.text and "checkpoint_epoch_00001.pyth" in caplog.text


def test_training_never_overwrites_checkpoints_it_cannot_read(tmp_path):
    """When no checkpoint reads, training starts over: the unreadable files are kept aside and the
    log says so, instead of warnings and files overwritten epoch by epoch."""
    data = write_color_dataset(str(tmp_path / "data"), videos_per_class=1)
    out = str(tmp_path / "run")
    damaged = get_path_to_checkpoint(out, 0)
    os.makedirs(os.path.dirname(damaged))
    with open(damaged, "wb") as stream:
        stream.write(b"half a checkpoint")
    train(
        tiny_cfg(
            data, out, "SOLVER.MAX_EPOCH", "1", "TRAIN.BATCH_SIZE", "2", "GLOBAL_BATCH_SIZE", "2"
        )
    )
    assert open(damaged + ".unreadable", "rb").read() == b"half a checkpoint"
    log = open(os.path.join(out, "stdout.log")).read()
    assert "[ERROR] timesformer.checkpoint.training_state:" in log
    assert f"Checkpoint {damaged} cannot be read (not the zip archive torch.save writes" in log
    assert "NO checkpoint is left: training starts over from epoch 1" in log
    assert torch.load(damaged, weights_only=True)["epoch"] == 0  # the new run's


def test_resume_with_other_optimizer_groups_names_the_keys(tmp_path):
    """A checkpoint written without layer-wise LR decay, resumed with it: one error naming the
    keys that shape the optimizer's groups, not torch's bare ValueError."""
    cfg = tiny_cfg("", str(tmp_path), "SOLVER.OPTIMIZING_METHOD", "adamw")
    model = build_model(cfg)
    save_checkpoint(cfg, model, build_optimizer(model, cfg), epoch=0)
    decayed = tiny_cfg(
        "", str(tmp_path), "SOLVER.OPTIMIZING_METHOD", "adamw", "SOLVER.LAYER_DECAY", "0.5"
    )
    checkpoint = read_checkpoint(get_path_to_checkpoint(str(tmp_path), 0))
    with pytest.raises(CheckpointError, match=r"optimizer state does not fit.*SOLVER\.LAYER_DECAY"):
        resume_training_state(checkpoint, model, build_optimizer(model, decayed))
