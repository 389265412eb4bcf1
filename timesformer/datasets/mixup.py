"""Mixup and CutMix of training clips (timm's ``Mixup``, with boxes over the frames).

Configured by MIXUP.*; the mixed soft targets go with the soft-target cross entropy of
:func:`timesformer.models.losses.build_train_loss` (with DATA.MULTI_LABEL, the mixed multi-hot
targets with its binary cross entropy).
"""

import torch
from fvcore.common.config import CfgNode
from timm.data import Mixup

from timesformer.config.checks import register_allowed_values
from timesformer.utils.targets import smoothed_multi_hot

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

    Multi-hot labels (B, K) (DATA.MULTI_LABEL) are mixed as timm mixes one-hot ones, clip ``i``
    with clip ``B - 1 - i`` by the factor ``lam`` of its clips: ``lam * y + (1 - lam) *
    y.flip(0)``, after label smoothing of each class's binary target
    (:func:`~timesformer.utils.targets.smoothed_multi_hot`).
    """

    def __call__(
        self, clips: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """clips: (B, C, T, H, W), labels: (B,) class ids or (B, K) multi-hot -> mixed clips,
        soft targets (B, K)."""
        batch, channels, frames, height, width = clips.shape
        images = clips.reshape(batch, channels * frames, height, width)
        if labels.ndim == 1:
            mixed, targets = super().__call__(images, labels)
        else:
            mixed, targets = images, self._mix_multi_hot(images, labels)
        return mixed.reshape(batch, channels, frames, height, width), targets

    def _mix_multi_hot(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mix ``images`` (B, C*T, H, W) in place as timm's ``Mixup.__call__`` does (its
        per-mode mixing, which returns ``lam``: a float, or (B, 1) for "elem" and "pair") and
        return the multi-hot ``labels`` (B, K) mixed by the same ``lam``."""
        assert len(images) % 2 == 0, "Mixup needs an even batch size"
        mix = {"elem": self._mix_elem, "pair": self._mix_pair, "batch": self._mix_batch}
        lam = mix[self.mode](images)
        targets = smoothed_multi_hot(labels, self.label_smoothing)
        return targets * lam + targets.flip(0) * (1.0 - lam)
