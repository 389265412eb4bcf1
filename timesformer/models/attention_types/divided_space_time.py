"""``divided_space_time`` (the paper's default): in each block, attention across the frames among
the patches of one position, then within each frame."""

from collections.abc import Mapping

import torch

from timesformer.models.attention import DividedSpaceTimeBlock
from timesformer.models.attention_types.registry import ATTENTION_TYPE_REGISTRY
from timesformer.models.attention_types.spec import AttentionSpec, BlockAttention
from timesformer.models.attention_types.token_layouts import CLIP_TOKENS


@ATTENTION_TYPE_REGISTRY.register()
class divided_space_time(AttentionSpec):  # noqa: N801 -- the TIMESFORMER.ATTENTION_TYPE value
    """:class:`~timesformer.models.attention.DividedSpaceTimeBlock` on one sequence per clip."""

    block = DividedSpaceTimeBlock
    tokens = CLIP_TOKENS
    block_matrices = 9  # qkv and proj of attn and of temporal_attn, and temporal_fc
    zero_init = ("temporal_fc",)
    image_copies = {"temporal_attn": "attn", "temporal_norm1": "norm1"}
    hf_attention_type = "divided_space_time"
    hf_block_members = {
        "temporal_layernorm": "temporal_norm1",
        "temporal_attention.attention.qkv": "temporal_attn.qkv",
        "temporal_attention.output.dense": "temporal_attn.proj",
        "temporal_dense": "temporal_fc",
    }

    @staticmethod
    def read_attention(weights: Mapping[str, torch.Tensor], num_frames: int) -> BlockAttention:
        """weights["temporal_attn"]: (N, T, T), one per patch position; weights["attn"]:
        (T, 1 + N, 1 + N), one per frame, the CLS token first -> the temporal, then the spatial
        mixing."""
        temporal, spatial = weights["temporal_attn"], weights["attn"]
        return BlockAttention(
            mixings=[_temporal_mixing(temporal, num_frames), _spatial_mixing(spatial)],
            cls_attention=spatial[:, 0, 1:],
            temporal=temporal.mean(dim=0),
        )


def _temporal_mixing(temporal: torch.Tensor, num_frames: int) -> torch.Tensor:
    """temporal: (N, T, T) -> (1, L, L), L = 1 + N*T; the CLS token is not mixed."""
    num_patches = temporal.shape[0]
    mixing = torch.zeros(1 + num_patches * num_frames, 1 + num_patches * num_frames)
    mixing[0, 0] = 1.0
    mixing[1:, 1:] = torch.block_diag(*temporal)  # the (n t) order: positions are blocks
    return CLIP_TOKENS.frame_major(mixing, num_frames).unsqueeze(0)


def _spatial_mixing(spatial: torch.Tensor) -> torch.Tensor:
    """spatial: (T, 1 + N, 1 + N) -> (1, L, L); the CLS token averages its T rows (the block adds
    the mean of its T per-frame results)."""
    num_frames, num_patches = spatial.shape[0], spatial.shape[1] - 1
    mixing = torch.zeros(1 + num_frames * num_patches, 1 + num_frames * num_patches)
    mixing[1:, 1:] = torch.block_diag(*spatial[:, 1:, 1:])
    mixing[1:, 0] = spatial[:, 1:, 0].reshape(-1)
    mixing[0, 0] = spatial[:, 0, 0].mean()
    mixing[0, 1:] = spatial[:, 0, 1:].reshape(-1) / num_frames
    return mixing.unsqueeze(0)
