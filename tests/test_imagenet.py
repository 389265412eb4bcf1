"""timesformer.checkpoint.imagenet, ImageNet initialization: image ViT weights fitted to the
video model, what TIMESFORMER.PRETRAINED_MODEL means, and getting timm's weights (offline: one
clear line)."""

import logging
import shutil

import numpy as np
import pytest
import safetensors.torch
import timm
import torch
from timm.models import get_pretrained_cfg
from timm.models.vision_transformer import VisionTransformer as TimmVisionTransformer

from helpers import TINY_MODEL, tiny_cfg
from timesformer.checkpoint.files import CheckpointError
from timesformer.checkpoint.imagenet import (
    ORIGINAL_IMAGENET_WEIGHTS,
    fetch_imagenet_weights,
    imagenet_weights_source,
    load_pretrained_imagenet,
    local_imagenet_weights,
)
from timesformer.models import TimeSformer, build_model


def image_vit(img_size=32, num_classes=10):
    """A timm ViT of the tiny video model's width, depth and heads, random weights."""
    torch.manual_seed(0)
    model = TimmVisionTransformer(
        img_size=img_size, patch_size=8, embed_dim=32, depth=2, num_heads=4, num_classes=num_classes
    )
    return model.eval()


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_imagenet_init_copies_spatial_weights_into_temporal_ones(suffix, tmp_path, caplog):
    image_model = image_vit(img_size=32)
    image_state = image_model.state_dict()
    path = str(tmp_path / f"vit{suffix}")
    if suffix == ".safetensors":
        safetensors.torch.save_file(image_state, path)
    else:
        torch.save(image_state, path)
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "DATA.TRAIN_CROP_SIZE",
        "48",
        "DATA.TRAIN_JITTER_SCALES",
        "[48, 56]",
        "MODEL.NUM_CLASSES",
        "5",
    )
    model = build_model(cfg)
    with caplog.at_level(logging.INFO):
        load_pretrained_imagenet(model, path)
    vit = model.model
    for index, block in enumerate(vit.blocks):
        for name in ("norm1.weight", "attn.qkv.weight", "attn.proj.bias", "mlp.fc2.weight"):
            torch.testing.assert_close(
                block.get_parameter(name), image_state[f"blocks.{index}.{name}"]
            )
        torch.testing.assert_close(
            block.temporal_attn.qkv.weight, image_state[f"blocks.{index}.attn.qkv.weight"]
        )
        torch.testing.assert_close(
            block.temporal_attn.proj.bias, image_state[f"blocks.{index}.attn.proj.bias"]
        )
        torch.testing.assert_close(
            block.temporal_norm1.weight, image_state[f"blocks.{index}.norm1.weight"]
        )
        assert (
            torch.count_nonzero(block.temporal_fc.weight) == 0
            and torch.count_nonzero(block.temporal_fc.bias) == 0
        )
    torch.testing.assert_close(vit.patch_embed.proj.weight, image_state["patch_embed.proj.weight"])
    assert vit.pos_embed.shape == (1, 1 + 6 * 6, 32)  # resized from the 4x4 grid
    torch.testing.assert_close(vit.pos_embed[0, 0], image_state["pos_embed"][0, 0])
    assert vit.head.weight.shape == (5, 32)  # ImageNet head (10 classes) dropped
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("Missing") and "time_embed" in m and "head.weight" in m for m in messages
    )
    assert any(m.startswith("Unexpected") for m in messages)
    assert any(m.startswith("Loaded") for m in messages)


@pytest.mark.parametrize("attention_type", ["divided_space_time", "space_only"])
def test_imagenet_initialized_model_sees_a_still_clip_as_the_image(attention_type, tmp_path):
    """With temporal_fc and time_embed zero, T copies of an image give the image ViT's feature."""
    image_model = image_vit(img_size=32)
    path = tmp_path / "vit.pth"
    torch.save(image_model.state_dict(), path)
    model = build_model(
        tiny_cfg(
            "",
            "",
            *TINY_MODEL,
            "TIMESFORMER.ATTENTION_TYPE",
            attention_type,
            "DATA.TRAIN_CROP_SIZE",
            "32",
        )
    ).eval()
    load_pretrained_imagenet(model, str(path))
    image = torch.randn(2, 3, 32, 32)
    clip = image.unsqueeze(2).expand(2, 3, 4, 32, 32)
    with torch.no_grad():
        expected = image_model.forward_head(image_model.forward_features(image), pre_logits=True)
        torch.testing.assert_close(model.forward_features(clip), expected, atol=1e-5, rtol=1e-5)


def test_imagenet_linear_patch_embedding_is_reshaped_to_a_convolution(tmp_path):
    image_state = image_vit().state_dict()
    conv_weight = image_state["patch_embed.proj.weight"]
    image_state["patch_embed.proj.weight"] = conv_weight.flatten(1)  # (D, 3*p*p), as old JAX ports
    path = tmp_path / "vit_linear_patch.pth"
    torch.save({"model": image_state}, path)
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    load_pretrained_imagenet(model, str(path))
    torch.testing.assert_close(model.model.patch_embed.proj.weight, conv_weight)


def test_imagenet_init_of_another_width_names_the_shapes(tmp_path):
    image_state = TimmVisionTransformer(
        img_size=32, patch_size=8, embed_dim=16, depth=2, num_heads=4
    ).state_dict()
    path = tmp_path / "vit_narrow.pth"
    torch.save(image_state, path)
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    with pytest.raises(
        CheckpointError, match=r"cls_token: checkpoint \(1, 1, 16\) vs model \(1, 1, 32\)"
    ):
        load_pretrained_imagenet(model, str(path))


def test_timm_name_offline_says_how_to_supply_weights(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    monkeypatch.setattr(timm, "create_model", offline)
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    expected = (
        r"^TIMESFORMER\.PRETRAINED_MODEL: the weights of timm model vit_base_patch16_224 are not "
        r"in timm's cache and cannot be downloaded \(OSError: We couldn't connect.*local file.*"
        r"torch\.save\(timm\.create_model\('vit_base_patch16_224'.*or to 'none' for random"
    )
    with pytest.raises(CheckpointError, match=expected) as error:
        load_pretrained_imagenet(model, "vit_base_patch16_224")
    assert "\n" not in str(error.value)


def test_original_weights_offline_and_not_cached_fail_in_one_line():
    """The session's weight caches are empty and the hub offline (conftest.py)."""
    assert local_imagenet_weights(ORIGINAL_IMAGENET_WEIGHTS) is None
    with pytest.raises(CheckpointError) as error:
        fetch_imagenet_weights(ORIGINAL_IMAGENET_WEIGHTS)
    message = str(error.value)
    assert "\n" not in message and message.startswith("TIMESFORMER.PRETRAINED_MODEL: ")
    for part in (
        "the original's ImageNet weights (timm's vit_base_patch16_224.orig_in21k_ft_in1k, "
        "jx_vit_base_p16_224-80ecf9dd.pth)",
        "local file",
        "'none' for random initialization",
    ):
        assert part in message


def test_timm_weights_in_timms_cache_load_without_the_network(offline_weight_caches, tmp_path):
    """A timm model's weights in the Hugging Face hub cache, laid out as hf_hub_download leaves
    them, are found and loaded with the hub offline."""
    name = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
    image_state = TimmVisionTransformer(embed_dim=192, depth=12, num_heads=3).state_dict()
    repo = offline_weight_caches / "huggingface" / "hub" / f"models--timm--{name}"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    safetensors.torch.save_file(image_state, str(snapshot / "model.safetensors"))
    try:
        assert local_imagenet_weights(name) == str(snapshot / "model.safetensors")
        fetch_imagenet_weights(name)  # cached: nothing to download
        model = TimeSformer(img_size=32, num_classes=5, num_frames=2, embed_dim=192, num_heads=3)
        load_pretrained_imagenet(model, name)
    finally:
        shutil.rmtree(repo)
    torch.testing.assert_close(
        model.model.blocks[11].temporal_attn.qkv.weight, image_state["blocks.11.attn.qkv.weight"]
    )
    torch.testing.assert_close(model.model.cls_token, image_state["cls_token"])


def test_unknown_pretrained_model_names_and_missing_files_are_explained():
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    with pytest.raises(CheckpointError, match="neither a file nor a timm model name"):
        load_pretrained_imagenet(model, "not_a_model_anywhere")
    with pytest.raises(CheckpointError, match="no such file"):
        load_pretrained_imagenet(model, "/nonexistent/vit.pth")


def test_pretrained_model_values_mean_what_they_meant_in_the_original():
    # The original's models/helpers.py::load_pretrained: '' downloads the default_cfg URL
    # .../jx_vit_base_p16_224-80ecf9dd.pth (timm's vit_base_patch16_224.orig_in21k_ft_in1k);
    # anything else is a file to load.
    assert imagenet_weights_source("") == "vit_base_patch16_224.orig_in21k_ft_in1k"
    assert get_pretrained_cfg(ORIGINAL_IMAGENET_WEIGHTS).url.endswith(
        "/jx_vit_base_p16_224-80ecf9dd.pth"
    )
    assert imagenet_weights_source("/data/vit.pth") == "/data/vit.pth"
    assert imagenet_weights_source("none") is None and imagenet_weights_source("None") is None


def test_building_a_model_never_loads_imagenet_weights(monkeypatch):
    """The registered model is built randomly initialized whatever TIMESFORMER.PRETRAINED_MODEL
    says: testing and the tools load a checkpoint into it and must not fetch ImageNet weights."""
    monkeypatch.setattr(timm, "create_model", _no_timm_weights)
    cfg = tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.PRETRAINED_MODEL", "")
    torch.manual_seed(0)
    first = build_model(cfg)
    torch.manual_seed(1)
    second = build_model(cfg)
    assert not torch.equal(first.model.pos_embed, second.model.pos_embed)


def _no_timm_weights(*args, **kwargs):
    raise AssertionError("timm.create_model called: ImageNet weights fetched or loaded")


def save_as_jax_npz(image_state, path, num_heads=4):
    """Write a timm ViT state dict in the layout of Google's JAX ViT ``.npz`` files."""
    dim = image_state["cls_token"].shape[-1]

    def heads(weight):  # (heads * head_dim, D_in) linear weight -> (D_in, heads, head_dim) kernel
        return weight.T.reshape(dim, num_heads, -1)

    arrays = {
        "embedding/kernel": image_state["patch_embed.proj.weight"].permute(2, 3, 1, 0),
        "embedding/bias": image_state["patch_embed.proj.bias"],
        "cls": image_state["cls_token"],
        "Transformer/posembed_input/pos_embedding": image_state["pos_embed"],
        "Transformer/encoder_norm/scale": image_state["norm.weight"],
        "Transformer/encoder_norm/bias": image_state["norm.bias"],
    }
    depth = len({key.split(".")[1] for key in image_state if key.startswith("blocks.")})
    for index in range(depth):
        block, jax_block = f"blocks.{index}.", f"Transformer/encoderblock_{index}/"
        attention = jax_block + "MultiHeadDotProductAttention_1/"
        for norm, jax_norm in (("norm1", "LayerNorm_0"), ("norm2", "LayerNorm_2")):
            arrays[f"{jax_block}{jax_norm}/scale"] = image_state[f"{block}{norm}.weight"]
            arrays[f"{jax_block}{jax_norm}/bias"] = image_state[f"{block}{norm}.bias"]
        qkv_weight, qkv_bias = (
            image_state[f"{block}attn.qkv.weight"],
            image_state[f"{block}attn.qkv.bias"],
        )
        for part, weight, bias in zip(
            ("query", "key", "value"), qkv_weight.chunk(3), qkv_bias.chunk(3), strict=True
        ):
            arrays[f"{attention}{part}/kernel"] = heads(weight)
            arrays[f"{attention}{part}/bias"] = bias.reshape(num_heads, -1)
        proj_weight = image_state[f"{block}attn.proj.weight"]  # (D_out, heads * head_dim)
        arrays[f"{attention}out/kernel"] = proj_weight.reshape(dim, num_heads, -1).permute(1, 2, 0)
        arrays[f"{attention}out/bias"] = image_state[f"{block}attn.proj.bias"]
        for layer in range(2):
            dense = f"{jax_block}MlpBlock_3/Dense_{layer}/"
            arrays[dense + "kernel"] = image_state[f"{block}mlp.fc{layer + 1}.weight"].T
            arrays[dense + "bias"] = image_state[f"{block}mlp.fc{layer + 1}.bias"]
    np.savez(path, **{name: tensor.detach().numpy() for name, tensor in arrays.items()})


def test_imagenet_init_reads_jax_npz_through_timm(tmp_path):
    image_state = image_vit().state_dict()
    path = tmp_path / "ViT-Ti_8.npz"
    save_as_jax_npz(image_state, path)
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    load_pretrained_imagenet(model, str(path))
    vit = model.model
    torch.testing.assert_close(vit.patch_embed.proj.weight, image_state["patch_embed.proj.weight"])
    torch.testing.assert_close(vit.pos_embed, image_state["pos_embed"])
    torch.testing.assert_close(
        vit.blocks[1].attn.qkv.weight, image_state["blocks.1.attn.qkv.weight"]
    )
    torch.testing.assert_close(
        vit.blocks[1].temporal_attn.proj.weight, image_state["blocks.1.attn.proj.weight"]
    )
    torch.testing.assert_close(vit.blocks[0].mlp.fc1.weight, image_state["blocks.0.mlp.fc1.weight"])
    torch.testing.assert_close(vit.norm.bias, image_state["norm.bias"])
