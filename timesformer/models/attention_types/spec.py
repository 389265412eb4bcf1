"""The interface of an attention type: :class:`AttentionSpec`, everything that one value of
TIMESFORMER.ATTENTION_TYPE decides, and :class:`BlockAttention`, how one of its blocks mixed a
clip's tokens.

The network reads a spec's block and token layout; the layers above it read the rest: the
memory floor of a config (:mod:`timesformer.config.memory`), ImageNet inflation
(:mod:`timesformer.checkpoint.imagenet`), Hugging Face names
(:mod:`timesformer.checkpoint.hugging_face`) and attention maps
(:mod:`timesformer.visualization.attention_maps`).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from timesformer.models.attention import Block
from timesformer.models.attention_types.token_layouts import TokenLayout


@dataclass
class BlockAttention:
    """How one block's attention mixed the tokens of one clip of T frames of N patches, read from
    its attention weights (averaged over heads).

    mixings: the block's attention layers in order, each (G, L, L), rows the queries: G groups
    of L tokens that never attend to each other, each ``[CLS, patches]``, the patches frame by
    frame (frame 0's N, then frame 1's, ...); G = 1 for one sequence per clip, G = T for one
    CLS token per frame (then the CLS feature is the mean of the G CLS tokens).
    cls_attention: (T, N), the CLS token's attention to each frame's patches, in the block's
    last layer.
    temporal: (T, T), the attention of a frame's patches (rows) to each frame (columns).
    """

    mixings: list[torch.Tensor]
    cls_attention: torch.Tensor
    temporal: torch.Tensor


class AttentionSpec:
    """One attention type: subclass it in a module of :mod:`timesformer.models.attention_types`
    and register the subclass in ``ATTENTION_TYPE_REGISTRY``, whose name is its class name (the
    TIMESFORMER.ATTENTION_TYPE value).

    The class attributes without a default are required.
    """

    block: type[Block]
    """The block: ``block(dim, num_heads, mlp_ratio=, qkv_bias=, drop_path=)``, called as
    ``block(tokens, num_frames, cls_only, shortcuts)`` on the tokens of :attr:`tokens` (see
    :class:`~timesformer.models.attention.Block`)."""

    tokens: TokenLayout
    """How the embeddings lay the tokens out, and where the head reads the CLS feature."""

    block_matrices: int
    """D x D weight matrices of a block besides its MLP (3 for a ``qkv``, 1 for a ``proj``...),
    for the memory floor of a config."""

    zero_init: tuple[str, ...] = ()
    """Block members that start at zero, at random initialization and at ImageNet inflation
    (with :attr:`image_copies`: so that a block starts as the image block)."""

    image_copies: Mapping[str, str] = {}
    """Block members ImageNet inflation copies from an image ViT block: member -> the image
    block's member it starts as (``{"temporal_attn": "attn"}``)."""

    hf_attention_type: str | None = None
    """Hugging Face's ``TimesformerConfig.attention_type`` of this type; None: Hugging Face has
    no such type."""

    hf_block_members: Mapping[str, str] = {}
    """Hugging Face's names of the block's own members, beyond those every type's block has
    (:class:`~timesformer.models.attention.Block`'s): Hugging Face's -> ours
    (``{"temporal_dense": "temporal_fc"}``)."""

    @classmethod
    def read_attention(cls, weights: Mapping[str, torch.Tensor], num_frames: int) -> BlockAttention:
        """How one block mixed the tokens of a clip of ``num_frames`` frames, from the weights of
        its attention modules by member name (``weights["attn"]``: (G, L, L), averaged over
        heads, G the groups of that module's input)."""
        raise NotImplementedError(f"attention type {cls.__name__} has no attention maps")
