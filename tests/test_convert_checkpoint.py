"""tools/convert_checkpoint.py: Hugging Face -> ours -> Hugging Face round trip, the CLI both
ways, and its errors."""

import os
import subprocess
import sys

import pytest
import torch
from transformers import TimesformerForVideoClassification

from helpers import HF_CLASSES, HF_CROP, HF_FRAMES, REPO_ROOT, hf_clip, load_tool, tiny_hf_model
from timesformer.config.defaults import get_cfg
from timesformer.models import build_model

convert_checkpoint = load_tool("convert_checkpoint")


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
    cfg.TIMESFORMER.PATCH_SIZE, cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.NUM_FRAMES = (
        8,
        HF_CROP,
        HF_FRAMES,
    )
    cfg.MODEL.NUM_CLASSES = HF_CLASSES
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
    video = hf_clip()
    with torch.no_grad():
        hf_logits = hf_model(pixel_values=video.transpose(1, 2)).logits
        torch.testing.assert_close(hf_logits, ours(video), atol=1e-5, rtol=1e-5)


def test_cli_reports_a_file_that_is_not_a_checkpoint(tmp_path):
    bogus = tmp_path / "notes.pyth"
    bogus.write_text("hello")
    assert convert_checkpoint.main([str(bogus), str(tmp_path / "hf"), "--to", "hf"]) == 1
    assert not (tmp_path / "hf").exists()
