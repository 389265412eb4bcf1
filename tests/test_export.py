"""tools/export.py: exported models (TorchScript, torch.export, ONNX) compute PyTorch's output."""

import os

import pytest
import torch

from helpers import TINY_RUN, tiny_cfg
from timesformer.cli.export import main
from timesformer.models.build import build_bare_model
from timesformer.models.export import export_model, load_exported


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny 2-class divided-attention model's checkpoint, with a non-zero temporal path."""
    root = tmp_path_factory.mktemp("export")
    cfg = tiny_cfg(str(root), str(root))
    torch.manual_seed(0)
    model = build_bare_model(cfg)
    torch.nn.init.normal_(model.model.blocks[0].temporal_fc.weight, std=0.2)
    path = str(root / "tiny.pyth")
    torch.save({"model_state": model.state_dict()}, path)
    return path


def _model(checkpoint: str, attention_type: str = "divided_space_time"):
    cfg = tiny_cfg("", "", "TIMESFORMER.ATTENTION_TYPE", attention_type)
    torch.manual_seed(0)
    model = build_bare_model(cfg).eval()
    if checkpoint:
        model.load_state_dict(torch.load(checkpoint)["model_state"])
    return model


@pytest.mark.parametrize("file_format", ["torchscript", "exported"])
def test_cli_export_matches_pytorch(checkpoint, tmp_path, file_format, capsys):
    output = str(tmp_path / f"model.{file_format}")
    argv = [
        "--checkpoint",
        checkpoint,
        "--format",
        file_format,
        "--output",
        output,
        "--batch-size",
        "2",
    ]
    assert main(argv + TINY_RUN) == 0
    assert "max |exported - PyTorch|" in capsys.readouterr().out

    video = torch.randn(2, 3, 2, 32, 32)
    with torch.no_grad():
        expected = _model(checkpoint)(video)
        torch.testing.assert_close(
            load_exported(output, file_format)(video), expected, atol=1e-5, rtol=1e-5
        )


@pytest.mark.parametrize("attention_type", ["joint_space_time", "space_only"])
def test_torchscript_of_other_attention_types(tmp_path, attention_type):
    model = _model("", attention_type)
    video = torch.randn(1, 3, 2, 32, 32)
    path = export_model(model, video, str(tmp_path / "model.pt"), "torchscript")
    with torch.no_grad():
        torch.testing.assert_close(
            load_exported(path, "torchscript")(video), model(video), atol=1e-5, rtol=1e-5
        )


def test_onnx_matches_pytorch(checkpoint, tmp_path):
    pytest.importorskip("onnxscript", reason="ONNX export needs the onnx and onnxscript packages")
    pytest.importorskip("onnxruntime", reason="running the ONNX model needs onnxruntime")
    model = _model(checkpoint)
    video = torch.randn(1, 3, 2, 32, 32)
    path = export_model(model, video, str(tmp_path / "model.onnx"), "onnx")
    with torch.no_grad():
        torch.testing.assert_close(
            load_exported(path, "onnx")(video), model(video), atol=1e-5, rtol=1e-5
        )


def test_missing_checkpoint_is_an_error(tmp_path, capsys):
    argv = [
        "--checkpoint",
        str(tmp_path / "none.pyth"),
        "--output",
        str(tmp_path / "m.pt"),
    ] + TINY_RUN
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: Checkpoint {tmp_path / 'none.pyth'}: no such file or directory."
    )
    assert not os.path.exists(tmp_path / "m.pt")
