"""Top-k metrics."""

import torch

from timesformer.utils.metrics import topk_accuracies, topks_correct


def test_topk_counts_and_percentages():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = torch.tensor([1, 1, 0, 2])
    top1, top2 = topks_correct(scores, labels, (1, 2))
    assert (int(top1), int(top2)) == (1, 2)
    assert topk_accuracies(scores, labels, (1, 2)) == [25.0, 50.0]


def test_k_larger_than_classes_counts_every_sample():
    scores = torch.randn(5, 3)
    labels = torch.randint(0, 3, (5,))
    assert topk_accuracies(scores, labels, (5,)) == [100.0]
