"""timesformer.checkpoint.start_state: where a training run starts from (resume, checkpoint,
ImageNet, random), decided once for the pre-flight and the trainer, each file read once."""

import os

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer as TimmVisionTransformer

from helpers import TINY_MODEL, tiny_cfg
from timesformer.checkpoint import start_state
from timesformer.checkpoint.files import CheckpointError
from timesformer.checkpoint.start_state import (
    CHECKPOINT,
    IMAGENET,
    RANDOM,
    RESUME,
    StartState,
    decide_start_state,
    load_start_state,
)
from timesformer.checkpoint.training_state import get_path_to_checkpoint, save_checkpoint
from timesformer.models import build_model
from timesformer.models.optimizer import build_optimizer


def test_the_decision_in_its_order(tmp_path):
    out = str(tmp_path / "run")
    pretrained = ("TIMESFORMER.PRETRAINED_MODEL", "/data/vit.pth")
    assert decide_start_state(tiny_cfg("", out, *pretrained)) == StartState(
        IMAGENET, "/data/vit.pth"
    )
    assert decide_start_state(tiny_cfg("", out, "TIMESFORMER.PRETRAINED_MODEL", "none")) == (
        StartState(RANDOM)
    )
    given = ("TRAIN.CHECKPOINT_FILE_PATH", "/data/k400.pyth", "TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN")
    assert decide_start_state(tiny_cfg("", out, *given, "('ema.',)")) == StartState(
        CHECKPOINT, "/data/k400.pyth", restores_optimizer_and_epoch=True, clear_prefixes=("ema.",)
    )
    assert decide_start_state(tiny_cfg("", out, *given, "()", "TRAIN.FINETUNE", "True")) == (
        StartState(CHECKPOINT, "/data/k400.pyth", finetune=True)
    )
    reset = ("TRAIN.CHECKPOINT_EPOCH_RESET", "True")
    assert decide_start_state(tiny_cfg("", out, *given, "()", *reset)) == (
        StartState(CHECKPOINT, "/data/k400.pyth")
    )
    os.makedirs(os.path.dirname(get_path_to_checkpoint(out, 0)))
    torch.save({"epoch": 0, "model_state": {}}, get_path_to_checkpoint(out, 0))
    assert decide_start_state(tiny_cfg("", out, *given, "()")) == (
        StartState(RESUME, get_path_to_checkpoint(out, 0))
    )
    assert decide_start_state(tiny_cfg("", out, *pretrained, "TRAIN.AUTO_RESUME", "False")) == (
        StartState(IMAGENET, "/data/vit.pth")
    )


def _trained_state(tmp_path, cfg):
    """A checkpoint of ``cfg``'s model after epoch 3 of a run, with its optimizer state."""
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg)
    model(torch.randn(2, 3, 4, 32, 32)).sum().backward()
    optimizer.step()
    source = tiny_cfg("", str(tmp_path / "source"), *TINY_MODEL)
    return save_checkpoint(source, model, optimizer, epoch=3), optimizer.state_dict()


def test_a_checkpoint_file_is_read_once_for_its_weights_optimizer_state_and_epoch(
    tmp_path, torch_load_reads
):
    cfg = tiny_cfg("", str(tmp_path / "run"), *TINY_MODEL)
    path, saved_optimizer = _trained_state(tmp_path, cfg)
    cfg.TRAIN.CHECKPOINT_FILE_PATH = path
    model = build_model(cfg)
    optimizer = build_optimizer(model, cfg)
    assert load_start_state(cfg, model, optimizer) == 4
    assert torch_load_reads == [path]
    assert optimizer.state_dict()["state"].keys() == saved_optimizer["state"].keys()


def test_a_resume_reads_its_checkpoint_once(tmp_path, torch_load_reads):
    out = str(tmp_path / "run")
    cfg = tiny_cfg("", out, *TINY_MODEL)
    source, _ = _trained_state(tmp_path, cfg)
    os.makedirs(os.path.dirname(get_path_to_checkpoint(out, 3)))
    os.replace(source, get_path_to_checkpoint(out, 3))
    model = build_model(cfg)
    assert load_start_state(cfg, model, build_optimizer(model, cfg)) == 4
    assert torch_load_reads == [get_path_to_checkpoint(out, 3)]


def test_a_resume_into_another_model_is_a_checkpoint_error(tmp_path):
    out = str(tmp_path / "run")
    source, _ = _trained_state(tmp_path, tiny_cfg("", out, *TINY_MODEL))
    os.makedirs(os.path.dirname(get_path_to_checkpoint(out, 3)))
    os.replace(source, get_path_to_checkpoint(out, 3))
    cfg = tiny_cfg("", out, *TINY_MODEL, "TIMESFORMER.DEPTH", "1")
    model = build_model(cfg)
    with pytest.raises(CheckpointError, match="Cannot resume from .*do not fit the configured"):
        load_start_state(cfg, model, build_optimizer(model, cfg))


def test_training_from_nothing_starts_from_the_imagenet_weights(tmp_path):
    image_state = TimmVisionTransformer(
        img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=4, num_classes=10
    ).state_dict()
    path = str(tmp_path / "vit.pth")
    torch.save(image_state, path)
    for pretrained_model in (path, "none"):
        cfg = tiny_cfg(
            "", str(tmp_path), *TINY_MODEL, "TIMESFORMER.PRETRAINED_MODEL", pretrained_model
        )
        torch.manual_seed(0)
        model = build_model(cfg)
        built = model.model.blocks[1].attn.qkv.weight.detach().clone()
        assert load_start_state(cfg, model, build_optimizer(model, cfg)) == 0
        if pretrained_model == path:  # the image weights, spatial and temporal
            expected = image_state["blocks.1.attn.qkv.weight"]
            torch.testing.assert_close(model.model.blocks[1].temporal_attn.qkv.weight, expected)
        else:  # random initialization: the model as built
            expected = built
        torch.testing.assert_close(model.model.blocks[1].attn.qkv.weight, expected)


VIT_BASE = [
    "TIMESFORMER.EMBED_DIM",
    "768",
    "TIMESFORMER.DEPTH",
    "12",
    "TIMESFORMER.NUM_HEADS",
    "12",
]


def test_imagenet_weights_are_fetched_only_when_training_starts_from_nothing(tmp_path, monkeypatch):
    fetched = []
    monkeypatch.setattr(start_state, "fetch_imagenet_weights", fetched.append)
    out = str(tmp_path / "run")

    def prepare(*overrides):
        fetched.clear()
        start_state.prepare_start_state(tiny_cfg("", out, *VIT_BASE, *overrides))
        return list(fetched)

    original = ["TIMESFORMER.PRETRAINED_MODEL", ""]
    assert prepare(*original) == ["vit_base_patch16_224.orig_in21k_ft_in1k"]
    assert prepare("TIMESFORMER.PRETRAINED_MODEL", "/data/vit.pth") == ["/data/vit.pth"]
    assert prepare("TIMESFORMER.PRETRAINED_MODEL", "none") == []
    assert prepare(*original, "TRAIN.ENABLE", "False") == []  # testing only
    assert prepare(*original, "TRAIN.CHECKPOINT_FILE_PATH", "/data/k400.pyth") == []
    os.makedirs(os.path.dirname(get_path_to_checkpoint(out, 0)))
    torch.save({"epoch": 0, "model_state": {}}, get_path_to_checkpoint(out, 0))
    assert prepare(*original) == []  # auto-resume
    assert prepare(*original, "TRAIN.AUTO_RESUME", "False") == [
        "vit_base_patch16_224.orig_in21k_ft_in1k"
    ]


def test_original_imagenet_weights_for_a_model_of_another_size_fail_in_one_line(tmp_path):
    cfg = tiny_cfg("", str(tmp_path), "TIMESFORMER.PRETRAINED_MODEL", "")
    with pytest.raises(CheckpointError) as error:
        start_state.prepare_start_state(cfg)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("TIMESFORMER.PRETRAINED_MODEL '' loads the original's ImageNet")
    assert "TIMESFORMER.EMBED_DIM 32, TIMESFORMER.DEPTH 1, TIMESFORMER.NUM_HEADS 2" in message
    assert message.endswith("or to 'none' for random initialization.")
