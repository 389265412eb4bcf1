"""How the tokens of a clip are laid out between the embeddings and the head: one sequence per
clip (:data:`CLIP_TOKENS`), or one per frame (:data:`FRAME_TOKENS`).

An attention type (:class:`~timesformer.models.attention_types.spec.AttentionSpec`) names its
layout; the network (:class:`~timesformer.models.vit.VisionTransformer`) asks it where the
embeddings go and where the head reads the CLS feature.
"""

import torch


class TokenLayout:
    """The shape of the tokens the blocks of an attention type take and give."""

    has_time_embed: bool
    """Whether the network has a time embedding ``time_embed`` (1, T, D)."""

    separate_frames: bool
    """Whether each frame is a sequence of its own: frames never attend to each other."""

    def embed(
        self,
        cls_token: torch.Tensor,
        pos_embed: torch.Tensor,
        patches: torch.Tensor,
        time_embed: torch.Tensor | None,
    ) -> torch.Tensor:
        """cls_token: (1, 1, D), its position embedding added; pos_embed: (1, N, D), the patches'
        position embedding; patches: (B, D, T, N), the patch projections of T frames;
        time_embed: (1, T, D), or None without one -> the tokens of the first block."""
        raise NotImplementedError

    def cls_output(self, tokens: torch.Tensor) -> torch.Tensor:
        """The last block's output (its CLS token(s) alone, or all tokens) -> the CLS feature
        (B, D) the head reads."""
        raise NotImplementedError


class ClipTokens(TokenLayout):
    """(B, 1 + N*T, D): the CLS token, then the patches in ``(n t)`` order, the T frames of
    patch 0, then of patch 1, ... (the official order, in which the T tokens of one position
    are contiguous); each patch adds its position's and its frame's embedding."""

    has_time_embed = True
    separate_frames = False

    def embed(
        self,
        cls_token: torch.Tensor,
        pos_embed: torch.Tensor,
        patches: torch.Tensor,
        time_embed: torch.Tensor | None,
    ) -> torch.Tensor:
        """See :meth:`TokenLayout.embed`; returns (B, 1 + N*T, D)."""
        assert time_embed is not None  # has_time_embed: the network passes one
        embeddings = pos_embed.unsqueeze(2) + time_embed.unsqueeze(1)  # (1, N, T, D)
        # The broadcast operand first: the sum is laid out (B, N, T, D), so flattening is a view.
        tokens = embeddings + patches.permute(0, 3, 2, 1)
        batch = patches.shape[0]
        return torch.cat((cls_token.expand(batch, 1, -1), tokens.flatten(1, 2)), dim=1)

    def cls_output(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (B, L, D) -> (B, D), the first token."""
        return tokens[:, 0]

    def frame_major(self, matrix: torch.Tensor, num_frames: int) -> torch.Tensor:
        """(L, L) over this layout's ``[CLS, (n t) patches]`` -> (L, L) over
        ``[CLS, (t n) patches]``: frame 0's patches, then frame 1's, ... (as attention maps are
        read)."""
        num_patches = (matrix.shape[-1] - 1) // num_frames
        patch_order = 1 + torch.arange(num_patches * num_frames).view(num_patches, num_frames)
        order = torch.cat((torch.zeros(1, dtype=torch.long), patch_order.t().reshape(-1)))
        return matrix[order][:, order]


class FrameTokens(TokenLayout):
    """(B, T, 1 + N, D): each frame a sequence of its own, its CLS token first (the one CLS
    token and its position, shared by the frames), then its N patches; no time embedding. The
    head reads the mean of the T frames' CLS outputs."""

    has_time_embed = False
    separate_frames = True

    def embed(
        self,
        cls_token: torch.Tensor,
        pos_embed: torch.Tensor,
        patches: torch.Tensor,
        time_embed: torch.Tensor | None,
    ) -> torch.Tensor:
        """See :meth:`TokenLayout.embed` (``time_embed`` unused); returns (B, T, 1 + N, D)."""
        batch, _, num_frames, _ = patches.shape
        tokens = pos_embed.unsqueeze(1) + patches.permute(0, 2, 3, 1)  # (B, T, N, D)
        frame_cls = cls_token.unsqueeze(1).expand(batch, num_frames, 1, -1)
        return torch.cat((frame_cls, tokens), dim=2)

    def cls_output(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (B, T, L, D) -> (B, D), the mean of the frames' first tokens."""
        return tokens[:, :, 0].mean(dim=1)


CLIP_TOKENS = ClipTokens()
FRAME_TOKENS = FrameTokens()
