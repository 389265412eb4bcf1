"""TimeSformer: a Vision Transformer over video clips.

:class:`VisionTransformer` is the network; :class:`vit_base_patch16_224` (the
registered name of the official release, MODEL.MODEL_NAME) builds it from a
config and :class:`TimeSformer` from keyword arguments, as the original README
does. Both hold it as ``self.model``, so their parameter names are those of the
official checkpoints (``model.cls_token``, ``model.blocks.0.temporal_attn.qkv.weight``...).
"""

from functools import partial

import torch
import torch.nn.functional as F
from fvcore.common.config import CfgNode
from timm.layers import PatchEmbed, trunc_normal_
from torch import nn
from torch.utils.checkpoint import checkpoint

from timesformer.models.attention_types import attention_spec
from timesformer.models.build import MODEL_REGISTRY
from timesformer.models.embeddings import resize_pos_embed, resize_time_embed
from timesformer.utils.distributed import unwrap_model


class VisionTransformer(nn.Module):
    """Video ViT with divided, joint or space-only space-time attention.

    Input ``(B, 3, T, H, W)``; H and W multiples of ``patch_size``. Clips whose
    patch grid or frame count differ from ``img_size`` / ``num_frames`` get
    resized position / time embeddings (:mod:`timesformer.models.embeddings`).

    Tokens inside the network are laid out as the attention type's spec says
    (:mod:`timesformer.models.attention_types`): divided and joint use ``(B, 1 + N*T, D)``, the
    CLS token first, then patches in ``(n t)`` order (N patches per frame); space-only uses
    ``(B, T, 1 + N, D)``, a CLS token per frame whose T outputs are averaged before the final
    norm.
    """

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_chans: int = 3,
        num_classes: int = 400,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path_rate: float = 0.1,
        dropout: float = 0.0,
        num_frames: int = 8,
        attention_type: str = "divided_space_time",
        activation_checkpointing: bool = False,
        init_std: float = 0.02,
        time_embed_init_std: float = 0.0,
    ):
        """
        Args:
            drop_path_rate: stochastic depth of the last block, rising linearly from 0.
            dropout: dropout on the pooled feature, before the head.
            activation_checkpointing: recompute each block in the backward pass.
            init_std: std of the truncated-normal init of the linear layers.
            time_embed_init_std: std of the time embedding's random init; 0: zeros.
        """
        super().__init__()
        self.attention_spec = spec = attention_spec(attention_type)
        self.attention_type = attention_type
        self.num_classes = num_classes
        self.num_features = self.embed_dim = embed_dim
        self.activation_checkpointing = activation_checkpointing
        # Exact shortcuts (see the blocks): the last block computes only the CLS output, the
        # one thing the head reads, and divided blocks apply temporal_attn.proj and
        # temporal_fc as one map. Off: every token through every layer, as the paper counts.
        self.shortcuts = True
        self.patch_embed = PatchEmbed(
            img_size, patch_size, in_chans, embed_dim, strict_img_size=False
        )
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, embed_dim))
        if spec.tokens.has_time_embed:
            self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        drop_path_rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            spec.block(embed_dim, num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop_path=rate)
            for rate in drop_path_rates
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head_drop = nn.Dropout(dropout)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights(init_std, time_embed_init_std)

    def init_weights(self, init_std: float = 0.02, time_embed_init_std: float = 0.0) -> None:
        """Random init; the defaults are the official code's.

        Truncated normal for the CLS token and position embedding (std 0.02) and the
        linear layers (std ``init_std``); zero the block members the attention type starts at
        zero (a divided block's ``temporal_fc``, so that it starts as the image block it is
        initialized from); a zero time embedding, or a truncated normal one of std
        ``time_embed_init_std`` (values cut at +-2, timm's default).
        """
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)
        if hasattr(self, "time_embed") and time_embed_init_std > 0:
            trunc_normal_(self.time_embed, std=time_embed_init_std)
        self.apply(partial(_init_linear_and_norm, std=init_std))
        for block in self.blocks:
            for member in self.attention_spec.zero_init:
                for parameter in block.get_submodule(member).parameters():
                    nn.init.zeros_(parameter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> logits (B, num_classes)."""
        return self.head(self.head_drop(self.forward_features(x)))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> the normalized CLS feature (B, D), the input of the head."""
        num_frames = x.shape[2]
        tokens = self.embed(x)
        last = len(self.blocks) - 1
        for index, block in enumerate(self.blocks):
            cls_only = self.shortcuts and index == last
            if self.activation_checkpointing and self.training and torch.is_grad_enabled():
                tokens = checkpoint(
                    block, tokens, num_frames, cls_only, self.shortcuts, use_reentrant=False
                )
            else:
                tokens = block(tokens, num_frames, cls_only, self.shortcuts)
        # (B, 1, D), or (B, T, 1, D) for space-only -> (B, D); space-only averages its T.
        return self.norm(self.attention_spec.tokens.cls_output(tokens))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> tokens with position (and time) embeddings, laid out as the
        attention type's tokens are.

        Returns (B, 1 + N*T, D) for divided and joint attention, (B, T, 1 + N, D) for space-only.
        """
        _, _, num_frames, height, width = x.shape
        patch_h, patch_w = self.patch_embed.patch_size
        pos_embed = self._pos_embed_for((height // patch_h, width // patch_w))
        cls_token = self.cls_token + pos_embed[:, :1]  # (1, 1, D)
        layout = self.attention_spec.tokens
        time_embed = (
            resize_time_embed(self.time_embed, num_frames) if layout.has_time_embed else None
        )
        return layout.embed(cls_token, pos_embed[:, 1:], self._patch_features(x), time_embed)

    def _patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> patch projections (B, D, T, N), N = (H/p)*(W/p) patches of each
        frame.

        ``patch_embed.proj`` (a 2-D convolution) applied as a 3-D convolution of temporal
        size 1, so that the clip is not copied into (B*T, 3, H, W).
        """
        proj = self.patch_embed.proj
        stride = (1, *proj.stride)
        return F.conv3d(x, proj.weight.unsqueeze(2), proj.bias, stride=stride).flatten(3)

    def _pos_embed_for(self, grid: tuple[int, int]) -> torch.Tensor:
        """The position embedding (1, 1 + h*w, D) for a patch grid (h, w)."""
        if tuple(grid) == tuple(self.patch_embed.grid_size):
            return self.pos_embed
        return resize_pos_embed(self.pos_embed, grid, old_grid=self.patch_embed.grid_size)


def _init_linear_and_norm(module: nn.Module, std: float) -> None:
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def find_vision_transformer(model: nn.Module) -> VisionTransformer:
    """The VisionTransformer network inside ``model``: a registered model (which holds it as
    ``.model``), possibly in DistributedDataParallel / ``torch.compile``, or the network itself."""
    model = unwrap_model(model)
    network = getattr(model, "model", model)
    if not isinstance(network, VisionTransformer):
        raise TypeError(f"{type(model).__name__} holds no TimeSformer VisionTransformer.")
    return network


def vit_kwargs_from_cfg(cfg: CfgNode) -> dict:
    """The :class:`VisionTransformer` arguments a config describes."""
    tf = cfg.TIMESFORMER
    return dict(
        img_size=cfg.DATA.TRAIN_CROP_SIZE,
        patch_size=tf.PATCH_SIZE,
        num_classes=cfg.MODEL.NUM_CLASSES,
        embed_dim=tf.EMBED_DIM,
        depth=tf.DEPTH,
        num_heads=tf.NUM_HEADS,
        mlp_ratio=tf.MLP_RATIO,
        drop_path_rate=tf.DROP_PATH_RATE,
        dropout=cfg.MODEL.HEAD_DROPOUT_RATE,
        num_frames=cfg.DATA.NUM_FRAMES,
        attention_type=tf.ATTENTION_TYPE,
        activation_checkpointing=tf.ACTIVATION_CHECKPOINTING,
        init_std=tf.INIT_STD,
        time_embed_init_std=tf.TIME_EMBED_INIT_STD,
    )


class _VideoClassifier(nn.Module):
    """Holds the network as ``self.model`` (the official parameter names)."""

    model: VisionTransformer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> logits (B, num_classes)."""
        return self.model(x)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, T, H, W) -> the CLS feature before the head, (B, D)."""
        return self.model.forward_features(x)


@MODEL_REGISTRY.register()
class vit_base_patch16_224(_VideoClassifier):  # noqa: N801 -- the official MODEL.MODEL_NAME
    """TimeSformer built from a config; sizes from TIMESFORMER.*, not from the name.

    Randomly initialized: the ImageNet weights of TIMESFORMER.PRETRAINED_MODEL are loaded
    by the training loop, and only when it starts from nothing
    (:func:`timesformer.checkpoint.start_state.load_start_state`), so that testing and the tools,
    which load a checkpoint anyway, never read or download them.
    """

    def __init__(self, cfg: CfgNode):
        super().__init__()
        self.model = VisionTransformer(**vit_kwargs_from_cfg(cfg))


class TimeSformer(_VideoClassifier):
    """TimeSformer from keyword arguments, as the original README builds it::

        model = TimeSformer(img_size=224, num_classes=400, num_frames=8,
                            attention_type="divided_space_time",
                            pretrained_model="/path/to/TimeSformer_divST_8x32_224_K400.pyth")

    ``pretrained_model``: a checkpoint of this model (official ``.pyth``, bare state
    dict or Hugging Face checkpoint); its head is dropped when ``num_classes``
    differs. Other keyword arguments go to :class:`VisionTransformer` (e.g.
    ``embed_dim``, ``depth``, ``num_heads`` for other sizes; ViT-Base by default).
    """

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        num_classes: int = 400,
        num_frames: int = 8,
        attention_type: str = "divided_space_time",
        pretrained_model: str = "",
        **kwargs,
    ):
        super().__init__()
        self.model = VisionTransformer(
            img_size=img_size,
            patch_size=patch_size,
            num_classes=num_classes,
            num_frames=num_frames,
            attention_type=attention_type,
            **kwargs,
        )
        if pretrained_model:
            # The original's one-line constructor loads weights, which the checkpoint layer above
            # the network reads: imported here only, the one upward import the layout allows
            # (tests/test_layout.py ORIGINAL_API_IMPORTS), so that importing models never does.
            from timesformer.checkpoint.formats import load_model_weights

            load_model_weights(self, pretrained_model, reset_head_if_mismatch=True)
