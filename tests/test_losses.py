"""Training losses: cross entropy with label smoothing, soft targets with Mixup/CutMix."""

import torch

from timesformer.config import get_cfg
from timesformer.datasets.mixup import build_mixup
from timesformer.models.losses import build_train_loss


def _cfg(**mixup):
    cfg = get_cfg()
    cfg.MODEL.NUM_CLASSES = 4
    for key, value in mixup.items():
        cfg.MIXUP[key] = value
    return cfg


def test_cross_entropy_with_label_smoothing():
    cfg = _cfg()
    cfg.MODEL.LABEL_SMOOTHING = 0.1
    logits, labels = torch.randn(6, 4), torch.randint(0, 4, (6,))
    expected = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)
    assert torch.allclose(build_train_loss(cfg)(logits, labels), expected)
    assert build_mixup(cfg) is None
