"""Training losses: cross entropy (with label smoothing), or soft-target cross entropy for the
mixed targets of Mixup/CutMix (:mod:`timesformer.datasets.mixup`)."""

import torch
from fvcore.common.config import CfgNode
from timm.loss import SoftTargetCrossEntropy

from timesformer.config.checks import register_allowed_values


def _cross_entropy(cfg: CfgNode) -> torch.nn.Module:
    if cfg.MIXUP.ENABLED:
        return SoftTargetCrossEntropy()
    return torch.nn.CrossEntropyLoss(label_smoothing=cfg.MODEL.LABEL_SMOOTHING)


LOSSES = {"cross_entropy": _cross_entropy}
"""MODEL.LOSS_FUNC -> ``loss(cfg)``."""

register_allowed_values("MODEL.LOSS_FUNC", LOSSES.keys)


def build_train_loss(cfg: CfgNode) -> torch.nn.Module:
    """Loss of a training batch: logits (B, K) and labels (B,) or soft targets (B, K), the
    MODEL.LOSS_FUNC (cross entropy: of soft targets with Mixup/CutMix)."""
    return LOSSES[cfg.MODEL.LOSS_FUNC](cfg)
