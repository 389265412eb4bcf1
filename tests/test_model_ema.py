"""The EMA of the weights (MODEL_EMA): its updates, exact resume, and the weights that
validation, testing, the tools and the converter then use."""

import os
import shutil

import pytest
import torch

from helpers import json_stats, tiny_cfg, write_color_dataset
from timesformer.checkpoint.conversion import ema_to_pyth
from timesformer.checkpoint.files import CheckpointError, read_checkpoint
from timesformer.checkpoint.training_state import (
    EMA_STATE_KEY,
    EMA_UPDATES_KEY,
    get_path_to_checkpoint,
    read_weights_to_evaluate,
)
from timesformer.cli import convert_checkpoint
from timesformer.config import ConfigError
from timesformer.engine import tester
from timesformer.engine.inference import load_inference_model
from timesformer.engine.model_ema import ModelEma
from timesformer.engine.trainer import train

EMA = ("MODEL_EMA.ENABLE", "True", "MODEL_EMA.DECAY", "0.5")


@pytest.fixture(scope="module")
def color_data(tmp_path_factory):
    return write_color_dataset(str(tmp_path_factory.mktemp("color_data")))


def _state(path: str) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _linear_with(value: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 1)
    torch.nn.init.constant_(layer.weight, value)
    torch.nn.init.constant_(layer.bias, value)
    return layer


def test_first_update_copies_then_each_step_averages():
    model = _linear_with(1.0)
    ema = ModelEma(model, decay=0.75, warmup=False)
    torch.nn.init.constant_(model.weight, 3.0)
    ema.update(model)
    assert torch.equal(ema.module.weight, model.weight)  # decay 0 at the first step
    torch.nn.init.constant_(model.weight, 7.0)
    ema.update(model)
    assert torch.allclose(ema.module.weight, torch.full((1, 2), 0.75 * 3.0 + 0.25 * 7.0))
    assert ema.updates == 2


def test_warmup_decay_rises_to_the_configured_decay():
    model = _linear_with(0.0)
    ema = ModelEma(model, decay=0.9, warmup=True)
    ema.update(model)  # step 1 copies
    torch.nn.init.constant_(model.weight, 1.0)
    ema.update(model)  # step 2: decay 1 - 2^(-2/3), below 0.9
    decay = 1 - 2 ** (-2 / 3)
    assert torch.allclose(ema.module.weight, torch.full((1, 2), 1 - decay))


def test_resumed_run_continues_the_same_average(color_data, tmp_path):
    """Kill after epoch 2 of 3, resume: the EMA weights and count equal the uninterrupted run's."""
    overrides = (*EMA, "MODEL_EMA.WARMUP", "True", "SOLVER.MAX_EPOCH", "3")
    straight = str(tmp_path / "straight")
    train(tiny_cfg(color_data, straight, *overrides))
    resumed = str(tmp_path / "resumed")
    shutil.copytree(straight, resumed)
    os.remove(get_path_to_checkpoint(resumed, 2))
    os.remove(os.path.join(resumed, "stdout.log"))
    train(tiny_cfg(color_data, resumed, *overrides))
    assert [r["epoch"] for r in json_stats(resumed) if r["split"] == "train_epoch"] == ["3/3"]
    expected, got = (_state(get_path_to_checkpoint(d, 2)) for d in (straight, resumed))
    assert got[EMA_UPDATES_KEY] == expected[EMA_UPDATES_KEY] == 6  # 2 steps per epoch
    for name, tensor in expected[EMA_STATE_KEY].items():
        assert torch.equal(got[EMA_STATE_KEY][name], tensor), name
    moved = [
        name
        for name, tensor in expected[EMA_STATE_KEY].items()
        if tensor.is_floating_point() and not torch.equal(tensor, expected["model_state"][name])
    ]
    assert moved, "the EMA equals the weights: it averaged nothing"


def test_updates_count_optimizer_steps_not_iterations(color_data, tmp_path):
    """8 videos, 4 per iteration, 8 per optimizer step: 1 step (1 EMA update) per epoch."""
    train(tiny_cfg(color_data, str(tmp_path), *EMA, "GLOBAL_BATCH_SIZE", "8"))
    assert _state(get_path_to_checkpoint(str(tmp_path), 1))[EMA_UPDATES_KEY] == 2


def test_validation_and_test_use_the_ema(color_data, tmp_path):
    cfg = tiny_cfg(color_data, str(tmp_path), *EMA)
    train(cfg)
    tester.test(cfg)
    with open(os.path.join(str(tmp_path), "stdout.log")) as log:
        text = log.read()
    assert "Validating with the EMA of the weights" in text
    assert "Evaluating the EMA weights of" in text


def test_evaluation_picks_the_ema_weights(color_data, tmp_path):
    cfg = tiny_cfg(color_data, str(tmp_path), *EMA)
    train(cfg)
    path = get_path_to_checkpoint(str(tmp_path), 1)
    state = _state(path)
    averaged = read_weights_to_evaluate(path, use_ema=True).model_state
    plain = read_weights_to_evaluate(path, use_ema=False).model_state
    for name in state["model_state"]:
        assert torch.equal(averaged[name], state[EMA_STATE_KEY][name])
        assert torch.equal(plain[name], state["model_state"][name])
    model = load_inference_model(cfg, path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[EMA_STATE_KEY][name]), name


def test_ema_wanted_but_absent_falls_back_to_the_weights(color_data, tmp_path):
    train(tiny_cfg(color_data, str(tmp_path), "SOLVER.MAX_EPOCH", "1"))
    path = get_path_to_checkpoint(str(tmp_path), 0)
    weights = read_weights_to_evaluate(path, use_ema=True)
    assert torch.equal(
        weights.model_state["model.head.weight"], _state(path)["model_state"]["model.head.weight"]
    )
    with open(os.path.join(str(tmp_path), "stdout.log")) as log:
        assert f"MODEL_EMA.ENABLE is set but {path} holds no EMA weights" in log.read()


def test_converter_writes_the_ema_weights(color_data, tmp_path):
    train(tiny_cfg(color_data, str(tmp_path / "run"), *EMA, "SOLVER.MAX_EPOCH", "1"))
    path = get_path_to_checkpoint(str(tmp_path / "run"), 0)
    out = str(tmp_path / "ema.pyth")
    assert convert_checkpoint.main([path, out, "--ema"]) == 0
    written = read_checkpoint(out)
    for name, tensor in _state(path)[EMA_STATE_KEY].items():
        assert torch.equal(written.model_state[name], tensor), name
    assert EMA_STATE_KEY not in written.extras and "cfg" in written.extras
    with pytest.raises(CheckpointError, match="holds no EMA weights"):
        ema_to_pyth(out, str(tmp_path / "again.pyth"))


@pytest.mark.parametrize("decay", ["1.0", "-0.1"])
def test_impossible_decay_names_the_key(decay):
    with pytest.raises(ConfigError, match=r"MODEL_EMA\.DECAY is .*expected 0 <= decay < 1"):
        tiny_cfg("", "", "MODEL_EMA.DECAY", decay)
