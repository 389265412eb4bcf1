"""Top-k correctness and accuracies."""

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
