"""tools/convert_checkpoint.py: the command line both ways, and its errors (the conversion itself:
test_conversion.py)."""

import os
import subprocess
import sys

import pytest
import torch
from transformers import TimesformerForVideoClassification

from helpers import HF_CLASSES, HF_CROP, HF_FRAMES, REPO_ROOT, hf_clip
from timesformer.cli import convert_checkpoint
from timesformer.config.defaults import get_cfg
from timesformer.models import build_model


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


def test_cli_reports_a_file_that_is_not_a_checkpoint(tmp_path, capsys):
    bogus = tmp_path / "notes.pyth"
    bogus.write_text("hello")
    with pytest.raises(SystemExit) as exit_info:
        convert_checkpoint.main([str(bogus), str(tmp_path / "hf"), "--to", "hf"])
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert f": error: {bogus} is not a PyTorch checkpoint that can be loaded safely" in line
    assert not (tmp_path / "hf").exists()
