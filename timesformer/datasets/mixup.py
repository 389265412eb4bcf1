"""Mixup and CutMix of training clips (timm's ``Mixup``, with boxes over the frames).

Configured by MIXUP.*; the mixed soft targets go with the soft-target cross entropy of
:func:`timesformer.models.losses.build_train_loss`.
"""

import torch
from fvcore.common.config import CfgNode
from timm.data import Mixup

from timesformer.config.checks import register_allowed_values

MIXUP_MODES = ("batch", "pair", "elem")
"""MIXUP.MODE: timm's ``Mixup`` modes, one mixing factor per batch, per pair of clips or per
clip."""

register_allowed_values("MIXUP.MODE", lambda: MIXUP_MODES)


def build_mixup(cfg: CfgNode) -> "VideoMixup | None":
    """timm's Mixup/CutMix configured from MIXUP.*, or None when MIXUP.ENABLED is off."""
    if not cfg.MIXUP.ENABLED:
        return None
    mixup = cfg.MIXUP
    return VideoMixup(
        mixup_alpha=mixup.ALPHA,
        cutmix_alpha=mixup.CUTMIX_ALPHA,
        cutmix_minmax=list(mixup.CUTMIX_MINMAX) if mixup.CUTMIX_MINMAX else None,
        prob=mixup.PROB,
        switch_prob=mixup.SWITCH_PROB,
        mode=mixup.MODE,
        label_smoothing=mixup.LABEL_SMOOTHING,
        num_classes=cfg.MODEL.NUM_CLASSES,
    )


class VideoMixup(Mixup):
    """timm's Mixup for clips: CutMix boxes cover the same area of every frame.

    timm mixes images ``(B, C, H, W)``; a clip ``(B, C, T, H, W)`` is viewed as
    ``(B, C*T, H, W)`` so that boxes fall on H and W, then viewed back.
    """

    def __call__(
        self, clips: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """clips: (B, C, T, H, W), labels: (B,) -> mixed clips, soft targets (B, K)."""
        batch, channels, frames, height, width = clips.shape
        images = clips.reshape(batch, channels * frames, height, width)
        mixed, targets = super().__call__(images, labels)
        return mixed.reshape(batch, channels, frames, height, width), targets
