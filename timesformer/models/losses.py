"""Training losses: cross entropy (with label smoothing), or soft-target cross entropy for the
mixed targets of Mixup/CutMix (:mod:`timesformer.datasets.mixup`)."""

import torch
from fvcore.common.config import CfgNode
from timm.loss import SoftTargetCrossEntropy


def build_train_loss(cfg: CfgNode) -> torch.nn.Module:
    """Loss of a training batch: logits (B, K) and labels (B,) or soft targets (B, K)."""
    if cfg.MIXUP.ENABLED:
        return SoftTargetCrossEntropy()
    return torch.nn.CrossEntropyLoss(label_smoothing=cfg.MODEL.LABEL_SMOOTHING)
