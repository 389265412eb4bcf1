"""timesformer.engine.inference: the model of the tools, its checkpoint read once, and a head of
another class count refused by name."""

import pytest
import torch

from helpers import TINY_MODEL, random_state, tiny_cfg
from timesformer.checkpoint.files import CheckpointError
from timesformer.engine.inference import load_inference_model
from timesformer.models import build_model


def test_the_inference_model_reads_its_checkpoint_once(tmp_path, torch_load_reads):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    path = str(tmp_path / "k400.pyth")
    torch.save({"epoch": 3, "model_state": state}, path)
    model = load_inference_model(cfg, path)
    assert not model.training
    assert torch.equal(model.state_dict()["model.head.weight"], state["model.head.weight"])
    assert torch_load_reads == [path]


def test_a_head_of_another_class_count_is_refused_by_name(tmp_path):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    path = str(tmp_path / "k400.pyth")
    torch.save({"model_state": random_state(build_model(cfg))}, path)
    cfg.MODEL.NUM_CLASSES = 3
    with pytest.raises(CheckpointError, match="k400.pyth classifies 5 classes but MODEL.NUM_CLASS"):
        load_inference_model(cfg, path)
