"""Top-k correctness and accuracies (one label per video), and average precision (several)."""

import torch


def topks_correct(
    scores: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...]
) -> list[torch.Tensor]:
    """Number of samples whose label is among the top-k scores, for each k.

    Args:
        scores: (N, K) logits or probabilities.
        labels: (N,) class indices.
    Returns:
        one scalar tensor per k.
    """
    max_k = min(max(ks), scores.shape[1])
    top = scores.topk(max_k, dim=1, largest=True, sorted=True).indices  # (N, max_k)
    hits = top.eq(labels.view(-1, 1))  # (N, max_k)
    return [hits[:, : min(k, max_k)].any(dim=1).sum() for k in ks]


def topk_accuracies(scores: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...]) -> list[float]:
    """Top-k accuracy in percent, for each k."""
    total = max(labels.numel(), 1)
    return [100.0 * float(correct) / total for correct in topks_correct(scores, labels, ks)]


def average_precisions(scores: torch.Tensor, targets: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Mean average precision of multi-label scores, in percent, and each class's AP.

    Args:
        scores: (N, K) logits or probabilities (AP depends only on each class's ranking).
        targets: (N, K) multi-hot labels (0 / 1).
    Returns:
        (mAP, per-class AP (K,) float64, both in percent). A class with no positive video has no
        AP (NaN in the per-class AP) and is left out of the mean, as PySlowFast's ``get_map``
        leaves it out; with no class positive at all, the mAP is NaN.

    APs are scikit-learn's ``average_precision_score`` of each class.
    """
    from sklearn.metrics import average_precision_score  # scikit-learn loads in about a second

    per_class = torch.full((targets.shape[1],), float("nan"), dtype=torch.float64)
    positive = targets.bool().any(dim=0)
    if positive.any():
        aps = average_precision_score(
            targets[:, positive].numpy(), scores[:, positive].double().numpy(), average=None
        )
        per_class[positive] = 100.0 * torch.as_tensor(aps, dtype=torch.float64).reshape(-1)
    return float(per_class[positive].mean()) if positive.any() else float("nan"), per_class
