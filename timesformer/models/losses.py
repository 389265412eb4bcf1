"""Training losses: cross entropy (with label smoothing), or soft-target cross entropy for the
mixed targets of Mixup/CutMix (:mod:`timesformer.datasets.mixup`); for several labels per video
(DATA.MULTI_LABEL), binary cross entropy of each class's sigmoid (``bce_logit``, PySlowFast's
name)."""

import torch
import torch.nn.functional as F
from fvcore.common.config import CfgNode
from timm.loss import SoftTargetCrossEntropy

from timesformer.config.checks import register_allowed_values
from timesformer.utils.targets import smoothed_multi_hot


def _cross_entropy(cfg: CfgNode) -> torch.nn.Module:
    if cfg.MIXUP.ENABLED:
        return SoftTargetCrossEntropy()
    return torch.nn.CrossEntropyLoss(label_smoothing=cfg.MODEL.LABEL_SMOOTHING)


class BinaryCrossEntropyWithLogits(torch.nn.Module):
    """Mean over classes and clips of the binary cross entropy of each class's sigmoid.

    ``forward(logits (B, K), targets)``: targets are multi-hot (B, K) (DATA.MULTI_LABEL), soft
    (B, K) (mixed by Mixup, already smoothed), or class ids (B,) (one label per video, made
    one-hot). Hard targets are smoothed by ``smoothing``
    (:func:`~timesformer.utils.targets.smoothed_multi_hot`).
    """

    def __init__(self, smoothing: float):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim == 1:
            targets = F.one_hot(targets, logits.shape[-1])
        if self.smoothing:
            targets = smoothed_multi_hot(targets, self.smoothing)
        return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))


def _binary_cross_entropy(cfg: CfgNode) -> torch.nn.Module:
    # Mixup smooths the targets it mixes (MIXUP.LABEL_SMOOTHING).
    return BinaryCrossEntropyWithLogits(0.0 if cfg.MIXUP.ENABLED else cfg.MODEL.LABEL_SMOOTHING)


LOSSES = {"cross_entropy": _cross_entropy, "bce_logit": _binary_cross_entropy}
"""MODEL.LOSS_FUNC -> ``loss(cfg)``."""

register_allowed_values("MODEL.LOSS_FUNC", LOSSES.keys)


def build_train_loss(cfg: CfgNode) -> torch.nn.Module:
    """Loss of a training batch: logits (B, K) and labels (B,), multi-hot labels (B, K) or soft
    targets (B, K), the MODEL.LOSS_FUNC (cross entropy: of soft targets with Mixup/CutMix)."""
    return LOSSES[cfg.MODEL.LOSS_FUNC](cfg)
