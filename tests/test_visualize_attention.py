"""tools/visualize_attention.py: PNG files of where the model looks, and unreadable videos
reported."""

import os

import torch

from helpers import TINY_RUN, tiny_cfg
from timesformer.cli.visualize_attention import main
from timesformer.datasets.synthetic_video import moving_texture_video, write_video


def test_cli_writes_pngs_and_reports_unreadable_video(tmp_path, capsys):
    cfg = tiny_cfg(str(tmp_path), str(tmp_path), "TIMESFORMER.ATTENTION_TYPE", "joint_space_time")
    from timesformer.models.build import MODEL_REGISTRY

    checkpoint = str(tmp_path / "tiny.pyth")
    torch.save(
        {"model_state": MODEL_REGISTRY.get(cfg.MODEL.MODEL_NAME)(cfg).state_dict()}, checkpoint
    )
    video = write_video(str(tmp_path / "clip.mp4"), list(moving_texture_video(12, 40, 48)), fps=15)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"nope")
    out = tmp_path / "pngs"
    argv = ["--checkpoint", checkpoint, "--output-dir", str(out), video, str(broken)]
    assert main(argv + TINY_RUN + ["TIMESFORMER.ATTENTION_TYPE", "joint_space_time"]) == 1
    for name in ("clip_spatial.png", "clip_temporal.png"):
        with open(out / name, "rb") as stream:
            assert stream.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "broken.mp4" in capsys.readouterr().err
    assert not os.path.exists(out / "broken_spatial.png")
