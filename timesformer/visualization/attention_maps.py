"""Where a TimeSformer looks: attention weights of one clip, CLS attention maps, attention
rollout and the frame-to-frame (temporal) attention pattern, for every attention type.

The model computes attention with the fused ``scaled_dot_product_attention``,
which does not return the weights. :class:`AttentionRecorder` recomputes them
in forward pre-hooks from each attention module's input and its own ``qkv``
weights (``softmax(q k^T / sqrt(d))``), leaving the model's forward pass as is.

Maps are for a batch of one clip, averaged over heads. Within this module
tokens are laid out ``[CLS, frame 0 patches, frame 1 patches, ...]`` (frame-major,
``L = 1 + T*N``); the model's own ``(n t)`` order is converted on the way in.
Rollout (Abnar & Zuidema, 2020) multiplies ``0.5 * A + 0.5 * I`` over the
attention layers (the identity stands for the residual path); a divided block
contributes its temporal, then its spatial attention.
"""

from dataclasses import dataclass

import torch
from torch import nn

from timesformer.models.attention import Attention


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
        self._handles = []

    def __enter__(self) -> "AttentionRecorder":
        for name, module in self.model.named_modules():
            if isinstance(module, Attention):
                self._handles.append(module.register_forward_pre_hook(self._hook(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name: str):
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


def _nt_to_frame_major(matrix: torch.Tensor, num_patches: int, num_frames: int) -> torch.Tensor:
    """(L, L) over ``[CLS, (n t) patches]`` -> (L, L) over ``[CLS, (t n) patches]``."""
    patch_order = 1 + torch.arange(num_patches * num_frames).view(
        num_patches, num_frames
    ).t().reshape(-1)
    order = torch.cat((torch.zeros(1, dtype=torch.long), patch_order))
    return matrix[order][:, order]


def _divided_temporal_mixing(temporal: torch.Tensor, num_frames: int) -> torch.Tensor:
    """temporal: (N, T, T), one per patch position -> (L, L); the CLS token is not mixed."""
    num_patches = temporal.shape[0]
    mixing = torch.zeros(1 + num_patches * num_frames, 1 + num_patches * num_frames)
    mixing[0, 0] = 1.0
    mixing[1:, 1:] = torch.block_diag(*temporal)
    return _nt_to_frame_major(mixing, num_patches, num_frames)


def _divided_spatial_mixing(spatial: torch.Tensor) -> torch.Tensor:
    """spatial: (T, 1 + N, 1 + N), one per frame -> (L, L); the CLS token averages its T rows."""
    num_frames, num_patches = spatial.shape[0], spatial.shape[1] - 1
    mixing = torch.zeros(1 + num_frames * num_patches, 1 + num_frames * num_patches)
    mixing[1:, 1:] = torch.block_diag(*spatial[:, 1:, 1:])
    mixing[1:, 0] = spatial[:, 1:, 0].reshape(-1)
    mixing[0, 0] = spatial[:, 0, 0].mean()
    mixing[0, 1:] = spatial[:, 0, 1:].reshape(-1) / num_frames
    return mixing


def _rollout(mixings: list[torch.Tensor]) -> torch.Tensor:
    """Product of ``0.5 * M + 0.5 * I`` over the layers' (..., L, L) mixings, first layer
    rightmost."""
    identity = torch.eye(mixings[0].shape[-1])
    result = identity.expand_as(mixings[0])
    for mixing in mixings:
        result = (0.5 * mixing + 0.5 * identity) @ result
    return result


def _frame_to_frame(mixing: torch.Tensor, num_frames: int) -> torch.Tensor:
    """(L, L) frame-major -> (T, T): mean over a frame's query patches of the weight on each frame's
    patches."""
    num_patches = (mixing.shape[0] - 1) // num_frames
    patches = mixing[1:, 1:].reshape(num_frames, num_patches, num_frames, num_patches)
    return patches.sum(dim=3).mean(dim=1)


def _divided_maps(
    blocks: list[dict], num_frames: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    last_spatial = blocks[-1]["attn"]  # (T, 1 + N, 1 + N)
    mixings = []
    for block in blocks:
        mixings.append(_divided_temporal_mixing(block["temporal_attn"], num_frames))
        mixings.append(_divided_spatial_mixing(block["attn"]))
    rollout = _rollout(mixings)[0, 1:].view(num_frames, -1)
    temporal = torch.stack([block["temporal_attn"].mean(dim=0) for block in blocks])
    return last_spatial[:, 0, 1:], rollout, temporal


def _joint_maps(
    blocks: list[dict], num_frames: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    num_patches = (blocks[0]["attn"].shape[-1] - 1) // num_frames
    mixings = [_nt_to_frame_major(block["attn"][0], num_patches, num_frames) for block in blocks]
    cls_attention = mixings[-1][0, 1:].view(num_frames, num_patches)
    rollout = _rollout(mixings)[0, 1:].view(num_frames, num_patches)
    temporal = torch.stack([_frame_to_frame(mixing, num_frames) for mixing in mixings])
    return cls_attention, rollout, temporal


def _space_only_maps(
    blocks: list[dict], num_frames: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    frames = [
        block["attn"] for block in blocks
    ]  # each (T, 1 + N, 1 + N): frames never attend to each other
    rollout = (
        _rollout(frames)[:, 0, 1:] / num_frames
    )  # the output averages the T per-frame CLS tokens
    temporal = torch.eye(num_frames).expand(len(blocks), num_frames, num_frames)
    return frames[-1][:, 0, 1:], rollout, temporal


_MAPS = {
    "divided_space_time": _divided_maps,
    "joint_space_time": _joint_maps,
    "space_only": _space_only_maps,
}


def _by_block(weights: dict[str, torch.Tensor], depth: int) -> list[dict]:
    """[{"attn": (G, L, L), "temporal_attn": ...}, ...] per block."""
    blocks = [{} for _ in range(depth)]
    for name, weight in weights.items():
        index, module_name = name.split("blocks.", 1)[1].split(".", 1)
        blocks[int(index)][module_name] = weight
    return blocks


@torch.no_grad()
def attention_maps(vit: nn.Module, clip: torch.Tensor) -> AttentionMaps:
    """Attention maps of ``clip`` (3, T, H, W), one preprocessed view, in a VisionTransformer
    ``vit``."""
    num_frames, height, width = clip.shape[1:]
    patch_h, patch_w = vit.patch_embed.patch_size
    with AttentionRecorder(vit) as recorder:
        vit.eval()(clip.unsqueeze(0).to(next(vit.parameters()).device))
    blocks = _by_block(recorder.weights, len(vit.blocks))
    cls_attention, rollout, temporal = _MAPS[vit.attention_type](blocks, num_frames)
    grid = (num_frames, height // patch_h, width // patch_w)
    return AttentionMaps(cls_attention.reshape(grid), rollout.reshape(grid), temporal)
