"""``space_only``: a per-frame ViT, each frame a sequence of its own with its own CLS token."""

from collections.abc import Mapping

import torch

from timesformer.models.attention import Block
from timesformer.models.attention_types.registry import ATTENTION_TYPE_REGISTRY
from timesformer.models.attention_types.spec import AttentionSpec, BlockAttention
from timesformer.models.attention_types.token_layouts import FRAME_TOKENS


@ATTENTION_TYPE_REGISTRY.register()
class space_only(AttentionSpec):  # noqa: N801 -- the TIMESFORMER.ATTENTION_TYPE value
    """:class:`~timesformer.models.attention.Block` on one sequence per frame."""

    block = Block
    tokens = FRAME_TOKENS
    block_matrices = 4  # qkv and proj
    hf_attention_type = "space_only"

    @staticmethod
    def read_attention(weights: Mapping[str, torch.Tensor], num_frames: int) -> BlockAttention:
        """weights["attn"]: (T, 1 + N, 1 + N), one per frame: frames never attend to each
        other."""
        frames = weights["attn"]
        return BlockAttention(
            mixings=[frames], cls_attention=frames[:, 0, 1:], temporal=torch.eye(num_frames)
        )
