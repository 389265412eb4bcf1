"""Training checkpoints: atomic writes and finding the last complete checkpoint."""

import os

import pytest
import torch

from timesformer.utils.checkpoint import get_last_checkpoint, get_path_to_checkpoint
from timesformer.utils.file_io import atomic_write


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
