"""timesformer.checkpoint.formats, loading this model's weights: official .pyth, bare state
dicts, other sizes, a checkpoint already read, and errors that name the problem."""

import logging

import pytest
import safetensors.torch
import torch

from helpers import TINY_MODEL, assert_weights_equal, random_state, tiny_cfg
from timesformer.checkpoint.files import CheckpointError, read_checkpoint
from timesformer.checkpoint.formats import load_model_weights
from timesformer.models import TimeSformer, build_model
from timesformer.models.attention_types import attention_type_names


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_official_pyth_loads_with_no_missing_or_unexpected_keys(attention_type, tmp_path, caplog):
    cfg = tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", attention_type)
    state = random_state(build_model(cfg))
    path = tmp_path / "TimeSformer_official.pyth"
    torch.save({"epoch": 15, "model_state": state, "optimizer_state": {}, "cfg": cfg.dump()}, path)
    model = build_model(cfg)
    with caplog.at_level(logging.INFO):
        result = load_model_weights(model, str(path))
    assert result.missing == [] and result.unexpected == []
    assert len(result.loaded) == len(state)
    assert_weights_equal(model, state)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"Loaded {len(state)} tensors") for m in messages)
    assert any(m.startswith("Missing") and m.endswith("none.") for m in messages)
    assert any(m.startswith("Unexpected") and m.endswith("none.") for m in messages)


def test_bare_state_dict_with_ddp_prefix_loads(tmp_path):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    path = tmp_path / "weights.pth"
    torch.save({f"module.{name}": tensor for name, tensor in state.items()}, path)
    model = build_model(cfg)
    load_model_weights(model, str(path))
    assert_weights_equal(model, state)


def test_a_checkpoint_already_read_loads_and_names_its_file(tmp_path, caplog):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    path = str(tmp_path / "k400.pyth")
    torch.save({"epoch": 3, "model_state": state}, path)
    model = build_model(cfg)
    with caplog.at_level(logging.INFO):
        load_model_weights(model, read_checkpoint(path))
    assert_weights_equal(model, state)
    assert f"Loaded {len(state)} tensors from {path}." in caplog.messages


def test_vision_transformer_names_and_safetensors_load(tmp_path):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file(
        {name.removeprefix("model."): t for name, t in state.items()}, str(path)
    )
    model = build_model(cfg)
    load_model_weights(model, str(path))
    assert_weights_equal(model, state)


def test_clear_name_patterns_are_stripped(tmp_path):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    path = tmp_path / "ema.pth"
    torch.save({"state_dict": {f"ema.{name}": t for name, t in state.items()}}, path)
    model = build_model(cfg)
    load_model_weights(model, str(path), clear_prefixes=("ema.",))
    assert_weights_equal(model, state)


def test_timesformer_pretrained_model_loads_official_pyth_and_resets_a_different_head(tmp_path):
    kwargs = dict(img_size=32, patch_size=8, num_frames=4, embed_dim=32, depth=2, num_heads=4)
    state = random_state(TimeSformer(num_classes=5, **kwargs))
    path = tmp_path / "k400.pyth"
    torch.save({"model_state": state}, path)
    same = TimeSformer(num_classes=5, pretrained_model=str(path), **kwargs)
    assert_weights_equal(same, state)
    other_classes = TimeSformer(num_classes=3, pretrained_model=str(path), **kwargs)
    for name, tensor in other_classes.state_dict().items():
        if not name.startswith("model.head."):
            torch.testing.assert_close(tensor, state[name], msg=name)
    assert other_classes.model.head.weight.shape == (3, 32)


def test_checkpoint_of_another_size_is_resized_to_the_model(tmp_path):
    state = random_state(
        build_model(
            tiny_cfg("", "", *TINY_MODEL, "DATA.TRAIN_CROP_SIZE", "32", "DATA.NUM_FRAMES", "2")
        )
    )
    path = tmp_path / "small.pyth"
    torch.save({"model_state": state}, path)
    model = build_model(
        tiny_cfg(
            "",
            "",
            *TINY_MODEL,
            "DATA.TRAIN_CROP_SIZE",
            "48",
            "DATA.TRAIN_JITTER_SCALES",
            "[48, 56]",
            "DATA.NUM_FRAMES",
            "4",
        )
    )
    load_model_weights(model, str(path))
    time_embed = model.model.time_embed[0]
    old_time_embed = state["model.time_embed"][0]
    for frame, source in enumerate([0, 0, 1, 1]):
        torch.testing.assert_close(time_embed[frame], old_time_embed[source])
    assert model.model.pos_embed.shape == (1, 1 + 6 * 6, 32)
    torch.testing.assert_close(model.model.pos_embed[0, 0], state["model.pos_embed"][0, 0])


def test_shape_mismatch_names_the_parameter_and_shapes_and_changes_nothing(tmp_path):
    cfg = tiny_cfg("", "", *TINY_MODEL)
    state = random_state(build_model(cfg))
    state["model.blocks.1.mlp.fc1.weight"] = torch.zeros(64, 32)
    path = tmp_path / "bad.pyth"
    torch.save({"model_state": state}, path)
    model = build_model(cfg)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    expected = r"blocks\.1\.mlp\.fc1\.weight: checkpoint \(64, 32\) vs model \(128, 32\)"
    with pytest.raises(CheckpointError, match=expected):
        load_model_weights(model, str(path))
    assert_weights_equal(model, before)


def test_different_head_fails_unless_reset_is_asked(tmp_path):
    state = random_state(build_model(tiny_cfg("", "", *TINY_MODEL, "MODEL.NUM_CLASSES", "5")))
    path = tmp_path / "k400.pyth"
    torch.save({"model_state": state}, path)
    model = build_model(tiny_cfg("", "", *TINY_MODEL, "MODEL.NUM_CLASSES", "3"))
    with pytest.raises(
        CheckpointError, match=r"head\.weight: checkpoint \(5, 32\) vs model \(3, 32\)"
    ):
        load_model_weights(model, str(path))
    result = load_model_weights(model, str(path), reset_head_if_mismatch=True)
    assert result.missing == ["head.weight", "head.bias"]


def test_other_attention_type_is_refused_when_strict_and_reported_otherwise(tmp_path):
    state = random_state(
        build_model(
            tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", "divided_space_time")
        )
    )
    path = tmp_path / "divided.pyth"
    torch.save({"model_state": state}, path)
    model = build_model(
        tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", "joint_space_time")
    )
    with pytest.raises(
        CheckpointError, match=r"unexpected blocks\.0\.temporal_norm1\.weight.*ATTENTION_TYPE"
    ):
        load_model_weights(model, str(path))
    result = load_model_weights(model, str(path), strict=False)
    assert result.missing == []
    assert len(result.unexpected) == 2 * 8  # 4 temporal modules x (weight, bias) x 2 blocks


def test_files_that_are_not_checkpoints_say_so(tmp_path):
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    text = tmp_path / "notes.pyth"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="notes.pyth is not a PyTorch checkpoint"):
        load_model_weights(model, str(text))
    listing = tmp_path / "list.pth"
    torch.save([1, 2, 3], listing)
    with pytest.raises(CheckpointError, match="list.pth is not a model checkpoint"):
        load_model_weights(model, str(listing))
    with pytest.raises(CheckpointError, match="no such file"):
        load_model_weights(model, str(tmp_path / "missing.pyth"))
    with pytest.raises(CheckpointError, match="without Hugging Face weights"):
        load_model_weights(model, str(tmp_path))
