"""Multi-head self-attention and the transformer blocks of TimeSformer.

Three kinds of space-time attention (Bertasius et al., "Is Space-Time Attention
All You Need for Video Understanding?", 2021):

* ``joint_space_time``: one attention over the CLS token and all patches of all
  frames — :class:`Block` on ``(B, 1 + N*T, D)``.
* ``space_only``: a per-frame ViT, each frame with its own CLS token —
  :class:`Block` on ``(B, T, 1 + N, D)``.
* ``divided_space_time``: temporal attention among the patches at the same
  position across frames, then spatial attention within each frame —
  :class:`DividedSpaceTimeBlock` on ``(B, 1 + N*T, D)``.

Patch tokens of a clip are ordered ``(n t)``: the T frames of patch 0, then of
patch 1, ... (the official order), so that the temporal groups are views.
Every attention goes through ``F.scaled_dot_product_attention``.
"""

import torch
import torch.nn.functional as F
from einops import rearrange
from timm.layers import DropPath, Mlp
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention over the second-to-last dimension, through SDPA.

    Parameters ``qkv`` and ``proj`` carry the names of the official release.
    Any number of leading (batch) dimensions is accepted.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., L, D) -> (..., L, D), every token attending to the L tokens of its group."""
        groups_shape, (length, dim) = x.shape[:-2], x.shape[-2:]
        qkv = self.qkv(x.reshape(-1, length, dim))  # SDPA's fused kernels want (G, heads, L, d)
        q, k, v = qkv.unflatten(-1, (3, self.num_heads, -1)).permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v)  # (G, heads, L, d)
        out = self.proj(out.transpose(1, 2).flatten(2))
        return out.view(*groups_shape, length, dim)


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``.

    Used as is by ``joint_space_time`` (x: (B, 1 + N*T, D)) and ``space_only``
    (x: (B, T, 1 + N, D), attention within each frame). Stochastic depth drops
    the residual of a whole sample (dimension 0).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """x: (..., L, D) -> same shape. ``num_frames`` is unused (same call as divided blocks)."""
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return self.mlp_residual(x)

    def mlp_residual(self, x: torch.Tensor) -> torch.Tensor:
        """``x + drop_path(mlp(norm2(x)))``."""
        return x + self.drop_path(self.mlp(self.norm2(x)))


class DividedSpaceTimeBlock(Block):
    """Divided space-time attention block (the paper's default).

    With cls: (B, 1, D) and patches p: (B, N*T, D) in ``(n t)`` order:

    1. temporal: ``p_t = p + temporal_fc(drop_path(temporal_attn(temporal_norm1(p))))``,
       attention among the T tokens of each patch position;
    2. spatial: in each frame, the CLS token and the frame's N patches of ``p_t``
       attend to each other (``attn(norm1(.))``); the patches add their result,
       the CLS token adds the mean of its T per-frame results;
    3. ``x + drop_path(mlp(norm2(x)))`` on all tokens.

    The CLS token is shared by the frames through a broadcast view, not copies.
    Stochastic depth drops a whole clip's residual (the official code drew it per
    patch position in step 1 and per frame in step 2); in eval mode both agree.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, norm_eps: float = 1e-6, **kwargs):
        super().__init__(dim, num_heads, qkv_bias=qkv_bias, norm_eps=norm_eps, **kwargs)
        self.temporal_norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.temporal_attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        self.temporal_fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """x: (B, 1 + N*T, D), patches in ``(n t)`` order -> same shape."""
        cls_token, patches = x[:, :1], x[:, 1:]
        patches = patches + self._temporal_residual(patches, num_frames)
        cls_residual, patch_residual = self._spatial_residuals(cls_token, patches, num_frames)
        x = torch.cat((cls_token + cls_residual, patches + patch_residual), dim=1)
        return self.mlp_residual(x)

    def _temporal_residual(self, patches: torch.Tensor, num_frames: int) -> torch.Tensor:
        """patches: (B, N*T, D) -> residual (B, N*T, D) of attention across frames."""
        batch, tokens, dim = patches.shape
        groups = self.temporal_norm1(patches).view(batch, tokens // num_frames, num_frames, dim)
        residual = self.drop_path(self.temporal_attn(groups))  # (B, N, T, D)
        return self.temporal_fc(residual.view(batch, tokens, dim))

    def _spatial_residuals(
        self, cls_token: torch.Tensor, patches: torch.Tensor, num_frames: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """cls_token: (B, 1, D), patches: (B, N*T, D) -> residuals (B, 1, D), (B, N*T, D)."""
        batch, _, dim = patches.shape
        frames = rearrange(patches, "b (n t) d -> b t n d", t=num_frames)
        frame_cls = cls_token.unsqueeze(1).expand(batch, num_frames, 1, dim)
        tokens = torch.cat((frame_cls, frames), dim=2)  # (B, T, 1 + N, D)
        residual = self.drop_path(self.attn(self.norm1(tokens)))
        cls_residual = residual[:, :, 0].mean(dim=1, keepdim=True)
        patch_residual = rearrange(residual[:, :, 1:], "b t n d -> b (n t) d")
        return cls_residual, patch_residual


BLOCKS = {
    "divided_space_time": DividedSpaceTimeBlock,
    "joint_space_time": Block,
    "space_only": Block,
}
