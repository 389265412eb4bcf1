"""Where a TimeSformer looks: attention weights of one clip, CLS attention maps, attention
rollout and the frame-to-frame (temporal) attention pattern, for every attention type.

The model computes attention with the fused ``scaled_dot_product_attention``,
which does not return the weights. :class:`AttentionRecorder` recomputes them
in forward pre-hooks from each attention module's input and its own ``qkv``
weights (``softmax(q k^T / sqrt(d))``), leaving the model's forward pass as is.

Maps are for a batch of one clip, averaged over heads. Each attention type's spec reads the
weights of its blocks (``AttentionSpec.read_attention``: how they mixed the tokens, laid out
``[CLS, frame 0 patches, frame 1 patches, ...]``, frame-major). Rollout (Abnar & Zuidema,
2020) multiplies ``0.5 * A + 0.5 * I`` over the attention layers (the identity stands for the
residual path); a divided block contributes its temporal, then its spatial attention.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from timesformer.models.attention import Attention
from timesformer.models.vit import VisionTransformer


def attention_weights(module: Attention, x: torch.Tensor) -> torch.Tensor:
    """Attention probabilities the module computes for input ``x`` (..., L, D): (G, heads, L, L)."""
    length, dim = x.shape[-2:]
    qkv = module.qkv(x.reshape(-1, length, dim))
    query, key, _ = qkv.unflatten(-1, (3, module.num_heads, -1)).permute(2, 0, 3, 1, 4).unbind(0)
    return (query @ key.transpose(-2, -1) * query.shape[-1] ** -0.5).softmax(dim=-1)


class AttentionRecorder:
    """Context manager recording ``weights[name]``, the attention (G, L, L) averaged over heads,
    of every Attention module of ``model`` (names as in ``named_modules``, e.g.
    ``blocks.0.temporal_attn``) in forward passes."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.weights: dict[str, torch.Tensor] = {}
        self._handles: list[RemovableHandle] = []

    def __enter__(self) -> "AttentionRecorder":
        for name, module in self.model.named_modules():
            if isinstance(module, Attention):
                self._handles.append(module.register_forward_pre_hook(self._hook(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name: str) -> Callable[[Attention, tuple], None]:
        def record(module: Attention, inputs: tuple) -> None:
            with torch.no_grad():
                self.weights[name] = attention_weights(module, inputs[0]).mean(dim=1).float().cpu()

        return record


@dataclass
class AttentionMaps:
    """Attention of one clip of T frames on an (h, w) patch grid.

    cls_attention: (T, h, w) attention of the CLS token(s) to each patch in the last block.
    rollout: (T, h, w) relevance of each patch to the output CLS feature over all blocks.
    temporal: (depth, T, T) per block, attention of a frame's patches (rows) to each frame
    (columns).
    """

    cls_attention: torch.Tensor
    rollout: torch.Tensor
    temporal: torch.Tensor


def _rollout(mixings: list[torch.Tensor]) -> torch.Tensor:
    """Product of ``0.5 * M + 0.5 * I`` over the layers' (..., L, L) mixings, first layer
    rightmost."""
    identity = torch.eye(mixings[0].shape[-1])
    result = identity.expand_as(mixings[0])
    for mixing in mixings:
        result = (0.5 * mixing + 0.5 * identity) @ result
    return result


def _by_block(weights: dict[str, torch.Tensor], depth: int) -> list[dict[str, torch.Tensor]]:
    """[{"attn": (G, L, L), "temporal_attn": ...}, ...] per block."""
    blocks: list[dict[str, torch.Tensor]] = [{} for _ in range(depth)]
    for name, weight in weights.items():
        index, module_name = name.split("blocks.", 1)[1].split(".", 1)
        blocks[int(index)][module_name] = weight
    return blocks


@torch.no_grad()
def attention_maps(vit: VisionTransformer, clip: torch.Tensor) -> AttentionMaps:
    """Attention maps of ``clip`` (3, T, H, W), one preprocessed view, in a VisionTransformer
    ``vit``."""
    num_frames, height, width = clip.shape[1:]
    patch_h, patch_w = vit.patch_embed.patch_size
    with AttentionRecorder(vit) as recorder:
        vit.eval()(clip.unsqueeze(0).to(next(vit.parameters()).device))
    read = vit.attention_spec.read_attention
    blocks = [read(weights, num_frames) for weights in _by_block(recorder.weights, len(vit.blocks))]
    mixings = [mixing for block in blocks for mixing in block.mixings]  # each (G, L, L)
    # The CLS feature is the mean of the G CLS tokens (one per frame for space-only).
    rollout = _rollout(mixings)[:, 0, 1:] / mixings[0].shape[0]
    grid = (num_frames, height // patch_h, width // patch_w)
    temporal = torch.stack([block.temporal for block in blocks])
    return AttentionMaps(blocks[-1].cls_attention.reshape(grid), rollout.reshape(grid), temporal)
