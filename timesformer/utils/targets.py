"""Multi-hot targets of videos with several labels (DATA.MULTI_LABEL), and their smoothing."""

import torch


def multi_hot(class_ids: tuple[int, ...], num_classes: int) -> torch.Tensor:
    """(num_classes,) float32: 1 at each of ``class_ids`` (possibly none), 0 elsewhere."""
    targets = torch.zeros(num_classes)
    targets[list(class_ids)] = 1.0
    return targets


def smoothed_multi_hot(targets: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Multi-hot (or one-hot) targets (..., K) with label smoothing ``s`` of each class's binary
    target: ``1 - s / 2`` where a label is, ``s / 2`` elsewhere (``targets * (1 - s) + s / 2``,
    the smoothing timm applies to multi-label Mixup targets)."""
    return targets.float() * (1.0 - smoothing) + 0.5 * smoothing
