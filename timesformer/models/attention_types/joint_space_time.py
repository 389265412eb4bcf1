"""``joint_space_time``: in each block, one attention over the CLS token and all patches of all
frames."""

from collections.abc import Mapping

import torch

from timesformer.models.attention import Block
from timesformer.models.attention_types.registry import ATTENTION_TYPE_REGISTRY
from timesformer.models.attention_types.spec import AttentionSpec, BlockAttention
from timesformer.models.attention_types.token_layouts import CLIP_TOKENS


@ATTENTION_TYPE_REGISTRY.register()
class joint_space_time(AttentionSpec):  # noqa: N801 -- the TIMESFORMER.ATTENTION_TYPE value
    """:class:`~timesformer.models.attention.Block` on one sequence per clip."""

    block = Block
    tokens = CLIP_TOKENS
    block_matrices = 4  # qkv and proj
    hf_attention_type = "joint_space_time"

    @staticmethod
    def read_attention(weights: Mapping[str, torch.Tensor], num_frames: int) -> BlockAttention:
        """weights["attn"]: (1, L, L) over the clip's ``[CLS, (n t) patches]``."""
        mixing = CLIP_TOKENS.frame_major(weights["attn"][0], num_frames)
        return BlockAttention(
            mixings=[mixing.unsqueeze(0)],
            cls_attention=mixing[0, 1:].view(num_frames, -1),
            temporal=_frame_to_frame(mixing, num_frames),
        )


def _frame_to_frame(mixing: torch.Tensor, num_frames: int) -> torch.Tensor:
    """(L, L) frame-major -> (T, T): mean over a frame's query patches of the weight on each
    frame's patches."""
    num_patches = (mixing.shape[0] - 1) // num_frames
    patches = mixing[1:, 1:].reshape(num_frames, num_patches, num_frames, num_patches)
    return patches.sum(dim=3).mean(dim=1)
