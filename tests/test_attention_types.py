"""The attention types' registry: the built-in specs, and a new type registered from this file
alone (a time-only attention) that the config accepts and the network builds, runs and trains."""

import pytest
import torch

from helpers import TINY_MODEL, randomize_, tiny_cfg
from timesformer.config import ConfigError, memory
from timesformer.models import build_model
from timesformer.models.attention import Block, DividedSpaceTimeBlock
from timesformer.models.attention_types import (
    ATTENTION_TYPE_REGISTRY,
    AttentionSpec,
    attention_spec,
    attention_type_names,
)
from timesformer.models.attention_types.token_layouts import CLIP_TOKENS, FRAME_TOKENS
from timesformer.visualization.attention_maps import attention_maps


class TimeOnlyBlock(Block):
    """Each patch attends to the patches of its position in the other frames, never to its
    own frame; the CLS token attends to every token. x: (B, 1 + N*T, D), patches in (n t)."""

    def forward(
        self, x: torch.Tensor, num_frames: int, cls_only: bool = False, shortcuts: bool = True
    ) -> torch.Tensor:
        normed = self.norm1(x)
        cls_token = x[:, :1] + self.drop_path(self.attn(normed, cls_only=True))
        if cls_only:
            return self.mlp_residual(cls_token)
        batch, length, dim = x.shape
        positions = normed[:, 1:].view(batch, (length - 1) // num_frames, num_frames, dim)
        patches = x[:, 1:] + self.drop_path(self.attn(positions).view(batch, length - 1, dim))
        return self.mlp_residual(torch.cat((cls_token, patches), dim=1))


class time_only(AttentionSpec):  # noqa: N801 -- the TIMESFORMER.ATTENTION_TYPE value
    """Time-only attention: one sequence per clip (so a time embedding), no own parameters."""

    block = TimeOnlyBlock
    tokens = CLIP_TOKENS
    block_matrices = 4


@pytest.fixture
def registered_time_only():
    """``time_only`` in the registry for one test (fvcore's Registry has no unregister)."""
    ATTENTION_TYPE_REGISTRY.register(time_only)
    yield "time_only"
    del ATTENTION_TYPE_REGISTRY._obj_map["time_only"]


def _tiny(attention_type: str, *overrides: str):
    return tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", attention_type, *overrides)


def test_the_built_in_types_and_what_they_name():
    assert attention_type_names() == ("divided_space_time", "joint_space_time", "space_only")
    divided, joint, space_only = map(attention_spec, attention_type_names())
    assert (divided.block, joint.block, space_only.block) == (DividedSpaceTimeBlock, Block, Block)
    assert (divided.tokens, joint.tokens, space_only.tokens) == (
        CLIP_TOKENS,
        CLIP_TOKENS,
        FRAME_TOKENS,
    )
    for name in attention_type_names():
        assert attention_spec(name).hf_attention_type == name


def test_a_type_registered_from_a_test_file_is_configured_built_and_trained(
    registered_time_only,
):
    cfg = _tiny(
        registered_time_only, "MODEL.HEAD_DROPOUT_RATE", "0.0", "TIMESFORMER.DROP_PATH_RATE", "0.0"
    )
    model = randomize_(build_model(cfg)).train()
    assert "model.blocks.1.attn.qkv.weight" in model.state_dict()
    assert "model.time_embed" in model.state_dict()
    clip = torch.randn(2, 3, 4, 32, 32)
    logits = model(clip)
    assert logits.shape == (2, 5) and torch.isfinite(logits).all()
    logits.logsumexp(dim=1).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    model.model.shortcuts = False  # every token through the last block: the same logits
    torch.testing.assert_close(model(clip), logits)


def test_the_memory_floor_counts_the_blocks_of_a_registered_type(registered_time_only):
    """Its block has the weight matrices of a joint block (qkv and proj): the same floor."""
    time_only_cfg = _tiny(registered_time_only)
    assert memory.parameter_count(time_only_cfg) == memory.parameter_count(
        _tiny("joint_space_time")
    )


def test_an_unregistered_type_is_refused_by_the_config():
    with pytest.raises(ConfigError, match="ATTENTION_TYPE is 'time_only'; expected one of"):
        _tiny("time_only")


def test_a_type_without_attention_maps_says_so(registered_time_only):
    vit = build_model(_tiny(registered_time_only)).model
    with pytest.raises(NotImplementedError, match="time_only has no attention maps"):
        attention_maps(vit, torch.randn(3, 4, 32, 32))
