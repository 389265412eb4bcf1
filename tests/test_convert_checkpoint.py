"""Hugging Face transformers <-> ours: parity of logits, conversion CLI, round trip."""

import os
import subprocess
import sys

import pytest
import torch
from fvcore.common.config import CfgNode
from transformers import TimesformerConfig, TimesformerForVideoClassification

from helpers import load_tool
from timesformer.config.defaults import get_cfg
from timesformer.models import build_model
from timesformer.models.hugging_face import (
    cfg_from_hf_config,
    convert_hf_state_dict,
    to_hf_state_dict,
)
from timesformer.models.weight_files import CheckpointError
from timesformer.models.weights import load_model_weights, to_model_names

convert_checkpoint = load_tool("convert_checkpoint")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES, CROP, CLASSES = 4, 32, 5


def tiny_hf_model(attention_type):
    """A tiny Hugging Face TimeSformer with every parameter random (also time embeddings,
    temporal_dense)."""
    config = TimesformerConfig(
        image_size=CROP,
        patch_size=8,
        num_frames=FRAMES,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        attention_type=attention_type,
        num_labels=CLASSES,
    )
    model = TimesformerForVideoClassification(config).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


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


def clip():
    return torch.randn(2, 3, FRAMES, CROP, CROP, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time"])
def test_logits_equal_hugging_face_through_the_converter(attention_type, tmp_path):
    hf_model = tiny_hf_model(attention_type)
    hf_model.save_pretrained(tmp_path / "hf")
    convert_checkpoint.hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    ours = our_model_from_pyth(str(tmp_path / "ours.pyth"))
    video = clip()
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
    video = clip()
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
    convert_checkpoint.hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    ours = our_model_from_pyth(str(tmp_path / "ours.pyth"))
    video = clip()
    with torch.no_grad():
        hf_output = hf_model(pixel_values=video.transpose(1, 2), output_hidden_states=True)
        frame_cls = hf_output.hidden_states[-1][:, 0].view(
            2, FRAMES, -1
        )  # before the final layernorm
        averaged = hf_model.classifier(hf_model.timesformer.layernorm(frame_cls.mean(dim=1)))
        logits = ours(video)
    assert hf_output.logits.shape == (2 * FRAMES, CLASSES)
    assert logits.shape == (2, CLASSES)
    torch.testing.assert_close(logits, averaged, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time", "space_only"])
def test_hugging_face_to_ours_to_hugging_face_round_trip(attention_type, tmp_path):
    hf_model = tiny_hf_model(attention_type)
    hf_model.save_pretrained(tmp_path / "hf")
    convert_checkpoint.hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    convert_checkpoint.pyth_to_hf(str(tmp_path / "ours.pyth"), str(tmp_path / "hf_again"))
    again = TimesformerForVideoClassification.from_pretrained(tmp_path / "hf_again")
    for key in (
        "image_size",
        "patch_size",
        "num_frames",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "attention_type",
        "num_labels",
    ):
        assert getattr(again.config, key) == getattr(hf_model.config, key), key
    original = hf_model.state_dict()
    assert again.state_dict().keys() == original.keys()
    for name, tensor in again.state_dict().items():
        assert torch.equal(tensor, original[name]), name


def test_cli_exports_an_official_pyth_to_hugging_face(tmp_path):
    """An official-format .pyth (cfg without EMBED_DIM/NUM_HEADS) -> HF dir, same logits; heads from
    the flag."""
    cfg = get_cfg()
    cfg.NUM_GPUS = 0
    cfg.TIMESFORMER.EMBED_DIM, cfg.TIMESFORMER.DEPTH, cfg.TIMESFORMER.NUM_HEADS = 32, 2, 2
    cfg.TIMESFORMER.PATCH_SIZE, cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.NUM_FRAMES = 8, CROP, FRAMES
    cfg.MODEL.NUM_CLASSES = CLASSES
    ours = build_model(cfg).eval()
    with torch.no_grad():
        for param in ours.parameters():
            param.normal_(0, 0.2)
    src, dst = tmp_path / "official.pyth", tmp_path / "hf"
    torch.save({"epoch": 3, "model_state": ours.state_dict()}, src)
    run = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "tools", "convert_checkpoint.py"),
            str(src),
            str(dst),
            "--to",
            "hf",
            "--num-heads",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert {"config.json", "model.safetensors"} <= set(os.listdir(dst))
    hf_model = TimesformerForVideoClassification.from_pretrained(dst).eval()
    assert hf_model.config.num_attention_heads == 2
    video = clip()
    with torch.no_grad():
        hf_logits = hf_model(pixel_values=video.transpose(1, 2)).logits
        torch.testing.assert_close(hf_logits, ours(video), atol=1e-5, rtol=1e-5)


def test_cli_reports_a_file_that_is_not_a_checkpoint(tmp_path):
    bogus = tmp_path / "notes.pyth"
    bogus.write_text("hello")
    assert convert_checkpoint.main([str(bogus), str(tmp_path / "hf"), "--to", "hf"]) == 1
    assert not (tmp_path / "hf").exists()


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
        convert_checkpoint.hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    cfg = get_cfg()
    cfg.merge_from_other_cfg(cfg_from_hf_config(hf_model.config.to_dict()))
    cfg.NUM_GPUS = 0
    with pytest.raises(CheckpointError, match="hidden_act"):
        load_model_weights(build_model(cfg), str(tmp_path / "hf"))
    assert not (tmp_path / "ours.pyth").exists()
