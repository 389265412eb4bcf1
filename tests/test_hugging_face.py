"""timesformer.checkpoint.hugging_face, Hugging Face TimeSformer checkpoints: names both ways,
loading their folders directly, logits equal to transformers' model, and configs of another
architecture refused."""

import pytest
import torch
from fvcore.common.config import CfgNode

from helpers import HF_CLASSES, HF_FRAMES, hf_clip, tiny_hf_model
from timesformer.checkpoint.conversion import hf_to_pyth
from timesformer.checkpoint.files import CheckpointError
from timesformer.checkpoint.formats import load_model_weights, to_model_names
from timesformer.checkpoint.hugging_face import (
    cfg_from_hf_config,
    convert_hf_state_dict,
    to_hf_state_dict,
)
from timesformer.config.defaults import get_cfg
from timesformer.models import build_model


def our_model_from_pyth(path):
    """Build our model from the cfg stored by the converter, then load its weights."""
    checkpoint = torch.load(path, weights_only=True)
    cfg = get_cfg()
    cfg.merge_from_other_cfg(CfgNode.load_cfg(checkpoint["cfg"]))
    cfg.NUM_GPUS = 0
    model = build_model(cfg).eval()
    result = load_model_weights(model, path)
    assert result.missing == [] and result.unexpected == []
    return model


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_logits_equal_hugging_face_through_the_converter(attention_type, tmp_path):
    hf_model = tiny_hf_model(attention_type)
    hf_model.save_pretrained(tmp_path / "hf")
    hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    ours = our_model_from_pyth(str(tmp_path / "ours.pyth"))
    video = hf_clip()
    with torch.no_grad():
        expected = hf_model(pixel_values=video.transpose(1, 2)).logits  # HF takes (B, T, C, H, W)
        torch.testing.assert_close(ours(video), expected, atol=1e-5, rtol=1e-5)


def test_hugging_face_directory_loads_directly(tmp_path):
    hf_model = tiny_hf_model("divided_space_time")
    hf_model.save_pretrained(tmp_path / "hf")
    cfg = get_cfg()
    cfg.merge_from_other_cfg(cfg_from_hf_config(hf_model.config.to_dict()))
    cfg.NUM_GPUS = 0
    ours = build_model(cfg).eval()
    load_model_weights(ours, str(tmp_path / "hf"))
    video = hf_clip()
    with torch.no_grad():
        expected = hf_model(pixel_values=video.transpose(1, 2)).logits
        torch.testing.assert_close(ours(video), expected, atol=1e-5, rtol=1e-5)


def test_space_only_averages_frames_unlike_hugging_face(tmp_path):
    """Ours follows the paper: space-only averages the frames' CLS tokens and predicts once per
    clip.

    Hugging Face's space-only model skips that average and returns one prediction
    per frame, (B*T, classes). Ours equals its head on the frame-averaged CLS token.
    """
    hf_model = tiny_hf_model("space_only")
    hf_model.save_pretrained(tmp_path / "hf")
    hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    ours = our_model_from_pyth(str(tmp_path / "ours.pyth"))
    video = hf_clip()
    with torch.no_grad():
        hf_output = hf_model(pixel_values=video.transpose(1, 2), output_hidden_states=True)
        frame_cls = hf_output.hidden_states[-1][:, 0].view(
            2, HF_FRAMES, -1
        )  # before the final layernorm
        averaged = hf_model.classifier(hf_model.timesformer.layernorm(frame_cls.mean(dim=1)))
        logits = ours(video)
    assert hf_output.logits.shape == (2 * HF_FRAMES, HF_CLASSES)
    assert logits.shape == (2, HF_CLASSES)
    torch.testing.assert_close(logits, averaged, atol=1e-5, rtol=1e-5)


def test_hf_names_map_to_official_names_and_back():
    hf_state = tiny_hf_model("divided_space_time").state_dict()
    ours = convert_hf_state_dict(hf_state)
    assert "model.blocks.1.temporal_attn.proj.weight" in ours
    layer = "timesformer.encoder.layer"
    assert torch.equal(
        ours["model.blocks.1.temporal_fc.bias"], hf_state[f"{layer}.1.temporal_dense.bias"]
    )
    assert torch.equal(
        ours["model.blocks.0.mlp.fc2.weight"], hf_state[f"{layer}.0.output.dense.weight"]
    )
    assert torch.equal(ours["model.time_embed"], hf_state["timesformer.embeddings.time_embeddings"])
    assert to_hf_state_dict(to_model_names(ours)).keys() == hf_state.keys()


def test_unknown_hugging_face_name_is_refused():
    state = tiny_hf_model("joint_space_time").state_dict()
    state["timesformer.encoder.layer.0.adapter.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match="'timesformer.encoder.layer.0.adapter.weight'"):
        convert_hf_state_dict(state)


def test_hugging_face_config_of_another_architecture_is_refused(tmp_path):
    hf_model = tiny_hf_model("divided_space_time")
    hf_model.config.hidden_act = "relu"
    hf_model.save_pretrained(tmp_path / "hf")
    with pytest.raises(CheckpointError, match="hidden_act = 'relu'; this TimeSformer has 'gelu'"):
        hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    cfg = get_cfg()
    cfg.merge_from_other_cfg(cfg_from_hf_config(hf_model.config.to_dict()))
    cfg.NUM_GPUS = 0
    with pytest.raises(CheckpointError, match="hidden_act"):
        load_model_weights(build_model(cfg), str(tmp_path / "hf"))
    assert not (tmp_path / "ours.pyth").exists()
