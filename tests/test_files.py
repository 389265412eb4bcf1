"""timesformer.checkpoint.files: one safe reader for every file layout, what it hands on (the
weights and the rest of the file), and the one CheckpointError."""

import pytest
import safetensors.torch
import torch

from timesformer.checkpoint.files import CheckpointError, read_checkpoint, read_checkpoint_file


def test_a_training_checkpoint_is_read_into_its_weights_and_the_rest(tmp_path):
    path = str(tmp_path / "checkpoint_epoch_00003.pyth")
    weights = {"model.head.weight": torch.ones(2, 3)}
    torch.save({"epoch": 2, "model_state": weights, "optimizer_state": {"state": {}}}, path)
    checkpoint = read_checkpoint(path)
    assert checkpoint.path == path
    assert checkpoint.model_state.keys() == weights.keys()
    assert checkpoint.extras == {"epoch": 2, "optimizer_state": {"state": {}}}


def test_bare_state_dicts_and_safetensors_have_no_extras(tmp_path):
    weights = {"head.weight": torch.zeros(2, 3)}
    torch.save(weights, tmp_path / "bare.pth")
    safetensors.torch.save_file(weights, str(tmp_path / "bare.safetensors"))
    for name in ("bare.pth", "bare.safetensors"):
        checkpoint = read_checkpoint(str(tmp_path / name))
        assert checkpoint.extras == {}
        assert torch.equal(checkpoint.model_state["head.weight"], weights["head.weight"])


def test_unsafe_checkpoint_is_refused_without_suggesting_unsafe_loading(tmp_path):
    path = str(tmp_path / "crafted.pyth")
    torch.save({"epoch": 0, "model_state": {}, "extra": CraftedObject()}, path)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint_file(path)
    message = str(error.value)
    assert "crafted.pyth is not a PyTorch checkpoint that can be loaded safely" in message
    assert "it refers to io.open, which is not data" in message
    assert "weights_only" not in message and "will likely succeed" not in message
    assert (
        error.value.reason.startswith("it refers to io.open")
        and "crafted" not in error.value.reason
    )
    assert not (tmp_path / "ran").exists()


class CraftedObject:
    """Unpickling it would run code (create a file); weights_only loading refuses it."""

    def __reduce__(self):
        return (open, ("ran", "w"))
