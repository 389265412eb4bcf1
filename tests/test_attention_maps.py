"""Attention weights recomputed by hooks, and the maps of each attention type: CLS attention,
rollout, frame-to-frame attention."""

import pytest
import torch

from timesformer.models.attention import Attention
from timesformer.models.attention_types import attention_type_names
from timesformer.models.vit import VisionTransformer
from timesformer.visualization.attention_maps import (
    AttentionRecorder,
    attention_maps,
    attention_weights,
)


def _vit(attention_type: str, depth: int = 1) -> VisionTransformer:
    torch.manual_seed(0)
    vit = VisionTransformer(
        img_size=32,
        patch_size=16,
        num_classes=2,
        embed_dim=32,
        depth=depth,
        num_heads=2,
        num_frames=3,
        attention_type=attention_type,
    )
    for block in vit.blocks:
        if hasattr(block, "temporal_fc"):
            torch.nn.init.normal_(block.temporal_fc.weight, std=0.2)
    return vit.eval()


def test_recomputed_weights_give_the_module_output():
    torch.manual_seed(0)
    module = Attention(dim=8, num_heads=2).eval()
    x = torch.randn(2, 3, 5, 8)
    weights = attention_weights(module, x)  # (6, 2, 5, 5)
    value = (
        module.qkv(x.reshape(-1, 5, 8)).unflatten(-1, (3, 2, 4))[:, :, 2].transpose(1, 2)
    )  # (6, 2, 5, 4)
    mixed = (weights @ value).transpose(1, 2).flatten(2)
    with torch.no_grad():
        torch.testing.assert_close(module.proj(mixed).view(2, 3, 5, 8), module(x))


def test_recorder_shapes_and_hook_removal():
    vit = _vit("divided_space_time")
    with AttentionRecorder(vit) as recorder, torch.no_grad():
        vit(torch.randn(1, 3, 3, 32, 32))
    assert recorder.weights["blocks.0.attn"].shape == (3, 5, 5)  # T frames x (1 + N)^2
    assert recorder.weights["blocks.0.temporal_attn"].shape == (4, 3, 3)  # N positions x T^2
    assert all(not module._forward_pre_hooks for module in vit.modules())


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_maps_of_each_attention_type(attention_type):
    maps = attention_maps(_vit(attention_type, depth=2), torch.randn(3, 3, 32, 32))
    assert maps.cls_attention.shape == maps.rollout.shape == (3, 2, 2)
    assert maps.temporal.shape == (2, 3, 3)
    assert 0 < maps.rollout.sum() < 1  # the rest stays on the CLS token
    if attention_type != "joint_space_time":  # joint rows also attend to the CLS token
        torch.testing.assert_close(maps.temporal.sum(dim=-1), torch.ones(2, 3))
    if attention_type == "space_only":
        torch.testing.assert_close(maps.temporal, torch.eye(3).expand(2, 3, 3))


def test_one_layer_rollout_is_half_the_cls_attention():
    joint = attention_maps(_vit("joint_space_time"), torch.randn(3, 3, 32, 32))
    torch.testing.assert_close(joint.rollout, 0.5 * joint.cls_attention)
    space_only = attention_maps(_vit("space_only"), torch.randn(3, 3, 32, 32))
    torch.testing.assert_close(space_only.rollout, 0.5 * space_only.cls_attention / 3)


def test_one_layer_divided_rollout_follows_temporal_then_spatial_attention():
    vit = _vit("divided_space_time")
    clip = torch.randn(3, 3, 32, 32)
    with AttentionRecorder(vit) as recorder, torch.no_grad():
        vit(clip.unsqueeze(0))
    spatial = recorder.weights["blocks.0.attn"][
        :, 0, 1:
    ]  # (T, N): each frame's CLS row over its patches
    temporal = recorder.weights[
        "blocks.0.temporal_attn"
    ]  # (N, T, T): query frame -> key frame, per position
    # R = (S/2 + I/2)(Tm/2 + I/2); CLS row: half of the CLS rows of the frames (1/T each), passed
    # through Tm/2 + I/2.
    through_time = torch.einsum("sn,nst->tn", spatial, temporal)
    expected = 0.5 * (0.5 * through_time + 0.5 * spatial) / 3
    torch.testing.assert_close(attention_maps(vit, clip).rollout.view(3, 4), expected)
