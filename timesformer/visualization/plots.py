"""Figures of classification results: confusion matrix, per-class accuracy, top predictions of a
class."""

import torch
from matplotlib.figure import Figure

MAX_TICK_LABELS = 50
"""Classes above which axes show no class names (they would overlap)."""
MAX_CELL_TEXT = 20
"""Classes above which confusion matrix cells carry no numbers."""


def confusion_matrix(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Counts (K, K): row = true class, column = predicted class. predictions, labels: (N,) class
    ids."""
    flat = labels.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).view(num_classes, num_classes)


def _row_normalized(counts: torch.Tensor) -> torch.Tensor:
    return counts.float() / counts.sum(dim=1, keepdim=True).clamp_min(1)


def confusion_matrix_figure(counts: torch.Tensor, class_names: list[str], figsize=(8, 8)) -> Figure:
    """Rows normalized to the fraction of each true class predicted as each class. counts:
    (K, K)."""
    fractions = _row_normalized(counts).numpy()
    num_classes = len(class_names)
    figure = Figure(figsize=tuple(figsize), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axis, shrink=0.8)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if num_classes <= MAX_TICK_LABELS:
        axis.set_xticks(range(num_classes), class_names, rotation=90, fontsize=7)
        axis.set_yticks(range(num_classes), class_names, fontsize=7)
    if num_classes <= MAX_CELL_TEXT:
        for row in range(num_classes):
            for column in range(num_classes):
                value = fractions[row, column]
                color = "white" if value > 0.5 else "black"
                axis.text(
                    column, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color
                )
    return figure


def per_class_accuracy_figure(
    counts: torch.Tensor, class_names: list[str], figsize=(8, 8)
) -> Figure:
    """Bars: top-1 accuracy (%) of each true class (the normalized diagonal). counts: (K, K)."""
    accuracy = 100 * _row_normalized(counts).diagonal().numpy()
    num_classes = len(class_names)
    figure = Figure(figsize=tuple(figsize), layout="constrained")
    axis = figure.subplots()
    axis.bar(range(num_classes), accuracy, color="tab:blue")
    axis.set_ylim(0, 100)
    axis.set_ylabel("top-1 accuracy (%)")
    axis.set_xlabel("true class")
    if num_classes <= MAX_TICK_LABELS:
        axis.set_xticks(range(num_classes), class_names, rotation=90, fontsize=7)
    return figure


def top_predictions_figure(
    row: torch.Tensor, class_names: list[str], true_class: int, k: int, figsize=(8, 8)
) -> Figure:
    """Bars: the ``k`` classes most often predicted for videos of ``true_class``. row:
    (K,) counts."""
    counts, predicted = row.topk(min(k, row.numel()))
    figure = Figure(figsize=tuple(figsize), layout="constrained")
    axis = figure.subplots()
    colors = ["tab:green" if int(c) == true_class else "tab:gray" for c in predicted]
    axis.bar(range(len(predicted)), counts.numpy(), color=colors)
    axis.set_xticks(
        range(len(predicted)), [class_names[int(c)] for c in predicted], rotation=90, fontsize=7
    )
    axis.set_ylabel("videos")
    axis.set_title(
        f"top {len(predicted)} predictions for true class {class_names[true_class]}", fontsize=9
    )
    return figure


def per_class_average_precision_figure(
    average_precisions: torch.Tensor, class_names: list[str], figsize=(8, 8)
) -> Figure:
    """Bars: each class's average precision (%) of a multi-label evaluation, sorted from the
    best; a class without positive videos (NaN) has no bar. average_precisions: (K,)."""
    order = [int(i) for i in average_precisions.nan_to_num(-1.0).argsort(descending=True)]
    values = average_precisions[order].nan_to_num(0.0).numpy()
    figure = Figure(figsize=tuple(figsize), layout="constrained")
    axis = figure.subplots()
    axis.bar(range(len(order)), values, color="tab:blue")
    axis.set_ylim(0, 100)
    axis.set_ylabel("average precision (%)")
    axis.set_xlabel("class (best first)")
    if len(order) <= MAX_TICK_LABELS:
        axis.set_xticks(range(len(order)), [class_names[i] for i in order], rotation=90, fontsize=7)
    return figure
