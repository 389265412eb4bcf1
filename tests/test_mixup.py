"""Mixup and CutMix of clips: CutMix boxes cover the same area of every frame."""

import numpy as np
import torch

from helpers import tiny_cfg
from timesformer.datasets.mixup import build_mixup
from timesformer.models.losses import build_train_loss


def test_cutmix_box_covers_the_same_area_of_every_frame():
    cfg = tiny_cfg(
        "",
        "",
        "MODEL.NUM_CLASSES",
        "4",
        "MIXUP.ENABLED",
        "True",
        "MIXUP.ALPHA",
        "0.0",
        "MIXUP.CUTMIX_ALPHA",
        "1.0",
        "MIXUP.PROB",
        "1.0",
        "MIXUP.LABEL_SMOOTHING",
        "0.0",
    )
    np.random.seed(0)  # timm draws the mixing ratio and the box with NumPy
    clips = torch.stack([torch.full((3, 4, 16, 16), float(i)) for i in range(4)])  # clip i is all i
    labels = torch.arange(4)
    mixed, targets = build_mixup(cfg)(clips.clone(), labels)
    assert mixed.shape == clips.shape and targets.shape == (4, 4)
    assert torch.allclose(targets.sum(dim=1), torch.ones(4))
    # Batch mode pastes a box from the flipped batch: clip 0 gets pixels of clip 3, the same in each
    # frame.
    pasted = mixed[0] == 3.0  # (3, T, H, W)
    assert pasted.any() and torch.equal(pasted, pasted[:, :1].expand_as(pasted))
    area = pasted[0, 0].float().mean()
    assert torch.isclose(targets[0, 3], area, atol=1e-6) and torch.isclose(
        targets[0, 0], 1 - area, atol=1e-6
    )
    loss = build_train_loss(cfg)(torch.randn(4, 4), targets)
    assert torch.isfinite(loss)
