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
Every attention goes through ``F.scaled_dot_product_attention``. Each type's spec, in
:mod:`timesformer.models.attention_types`, names its block.
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

    def forward(
        self, x: torch.Tensor, cls_only: bool = False, project: bool = True
    ) -> torch.Tensor:
        """x: (..., L, D) -> (..., L, D), or (..., 1, D) with ``cls_only``: the output of the
        first token of each group alone (it still attends to all L tokens).

        ``project=False`` returns the heads' outputs side by side, before ``proj``, for a
        caller that folds ``proj`` into a layer of its own.
        """
        groups_shape, (length, dim) = x.shape[:-2], x.shape[-2:]
        groups = x.reshape(-1, length, dim)
        mixed = self._mix_first_token(groups) if cls_only else self._mix_all(groups)
        mixed = mixed.view(*groups_shape, -1, dim)
        return self.proj(mixed) if project else mixed

    def _mix_all(self, x: torch.Tensor) -> torch.Tensor:
        """x: (G, L, D) -> (G, L, D), every token a query.

        One ``qkv`` product split (not unbound), so that the backward assembles the
        qkv gradient with one concatenation; q, k, v stay views (G, heads, L, d) for
        SDPA's fused kernels.
        """
        q, k, v = self.qkv(x).split(x.shape[-1], dim=-1)
        q, k, v = (part.unflatten(-1, (self.num_heads, -1)).transpose(1, 2) for part in (q, k, v))
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)

    def _mix_first_token(self, x: torch.Tensor) -> torch.Tensor:
        """x: (G, L, D) -> (G, 1, D), the first token the only query.

        With one query the key and value projections fold into the query and the
        output, so the L tokens are never projected. For head h with rows W_k, W_v
        (d x D) of ``qkv`` and query q (d):
        ``q . (W_k x_j + b_k) = (W_k^T q) . x_j + q . b_k``, where the last term is
        the same for every key and the softmax drops it; and, the weights a_j
        summing to 1, ``sum_j a_j (W_v x_j + b_v) = W_v (sum_j a_j x_j) + b_v``.
        The heads become H queries (W_k^T q, in token space) of one attention over
        the raw tokens: O(H L D) work instead of the projections' O(L D^2).
        """
        dim, heads = x.shape[-1], self.num_heads
        weight_q, weight_k, weight_v = self.qkv.weight.view(3, heads, dim // heads, dim).unbind(0)
        bias = self.qkv.bias.view(3, dim) if self.qkv.bias is not None else (None, None, None)
        query = F.linear(x[:, 0], weight_q.reshape(dim, dim), bias[0]).view(-1, heads, dim // heads)
        query_in_tokens = torch.einsum("ghd,hde->ghe", query, weight_k)  # (G, H, D)
        tokens = x.unsqueeze(1)  # (G, 1, L, D): one attention "head", its H queries the heads
        mixed = F.scaled_dot_product_attention(
            query_in_tokens.unsqueeze(1), tokens, tokens, scale=(dim // heads) ** -0.5
        ).squeeze(1)  # (G, H, D)
        out = torch.einsum("ghe,hde->ghd", mixed, weight_v).flatten(1)
        if bias[2] is not None:
            out = out + bias[2]
        return out.unsqueeze(1)


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``.

    Used as is by ``joint_space_time`` (x: (B, 1 + N*T, D)) and ``space_only``
    (x: (B, T, 1 + N, D), attention within each frame). Stochastic depth drops
    the residual of a whole sample (dimension 0).

    ``cls_only`` (the last block: only the CLS output feeds the head) computes the
    output of the first token of each group alone; the other tokens are still
    keys and values (folded into its query, see ``Attention``), so that output is
    the same as in the full block.
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

    def forward(
        self, x: torch.Tensor, num_frames: int, cls_only: bool = False, shortcuts: bool = True
    ) -> torch.Tensor:
        """x: (..., L, D) -> (..., L, D), or (..., 1, D) if ``cls_only``.

        ``num_frames`` and ``shortcuts`` are unused (same call as divided blocks).
        """
        x = (x[..., :1, :] if cls_only else x) + self.drop_path(self.attn(self.norm1(x), cls_only))
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

    With ``cls_only`` (the last block), step 2 computes the CLS token's attention
    alone and step 3 runs on the CLS token only.
    The CLS token is shared by the frames through a broadcast view, not copies.
    Stochastic depth drops a whole clip's residual (the official code drew it per
    patch position in step 1 and per frame in step 2); in eval mode both agree.
    """

    def __init__(
        self, dim: int, num_heads: int, qkv_bias: bool = True, norm_eps: float = 1e-6, **kwargs
    ):
        super().__init__(dim, num_heads, qkv_bias=qkv_bias, norm_eps=norm_eps, **kwargs)
        self.temporal_norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.temporal_attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        self.temporal_fc = nn.Linear(dim, dim)

    def forward(
        self, x: torch.Tensor, num_frames: int, cls_only: bool = False, shortcuts: bool = True
    ) -> torch.Tensor:
        """x: (B, 1 + N*T, D), patches in ``(n t)`` order -> same shape, or (B, 1, D) if
        ``cls_only``.

        ``shortcuts``: ``temporal_attn.proj`` and ``temporal_fc`` applied as one map.
        """
        cls_token, patches = x[:, :1], x[:, 1:]
        patches = patches + self._temporal_residual(patches, num_frames, shortcuts)
        spatial = self._spatial_attention(
            cls_token, patches, num_frames, cls_only
        )  # (B, T, 1 or 1 + N, D)
        cls_token = cls_token + spatial[:, :, 0].mean(dim=1, keepdim=True)
        if cls_only:
            return self.mlp_residual(cls_token)
        patch_residual = rearrange(spatial[:, :, 1:], "b t n d -> b (n t) d")
        return self.mlp_residual(torch.cat((cls_token, patches + patch_residual), dim=1))

    def _temporal_residual(
        self, patches: torch.Tensor, num_frames: int, fold: bool
    ) -> torch.Tensor:
        """patches: (B, N*T, D) -> residual (B, N*T, D) of attention across frames,
        ``temporal_fc(drop_path(temporal_attn(temporal_norm1(patches))))``.

        With ``fold``, ``temporal_attn.proj`` and ``temporal_fc`` are applied as the one
        linear map they compose to: a D x D product per call instead of a D x D layer
        per token. Stochastic depth, a per-clip scale, commutes with that map but for
        ``temporal_fc``'s bias.
        """
        batch, tokens, dim = patches.shape
        groups = self.temporal_norm1(patches).view(batch, tokens // num_frames, num_frames, dim)
        if not fold:
            return self.temporal_fc(
                self.drop_path(self.temporal_attn(groups)).view(batch, tokens, dim)
            )
        mixed = self.temporal_attn(groups, project=False).view(batch, tokens, dim)
        proj, fc = self.temporal_attn.proj, self.temporal_fc
        bias = F.linear(proj.bias, fc.weight)
        return self.drop_path(F.linear(mixed, fc.weight @ proj.weight, bias)) + fc.bias

    def _spatial_attention(
        self, cls_token: torch.Tensor, patches: torch.Tensor, num_frames: int, cls_only: bool
    ) -> torch.Tensor:
        """cls_token: (B, 1, D), patches: (B, N*T, D) -> residuals (B, T, 1 + N, D) of attention
        within each frame (the CLS token first), or only the CLS token's (B, T, 1, D)."""
        batch, _, dim = patches.shape
        frames = rearrange(patches, "b (n t) d -> b t n d", t=num_frames)
        frame_cls = cls_token.unsqueeze(1).expand(batch, num_frames, 1, dim)
        tokens = torch.cat((frame_cls, frames), dim=2)  # (B, T, 1 + N, D)
        return self.drop_path(self.attn(self.norm1(tokens), cls_only))
