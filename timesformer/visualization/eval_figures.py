"""Which figures of validation / test results TENSORBOARD.* asks for, and making them.

TENSORBOARD.CONFUSION_MATRIX.ENABLE: the confusion matrix (also of
CONFUSION_MATRIX.SUBSET_PATH's classes, and of each group of CATEGORIES_PATH) and
the per-class accuracy. TENSORBOARD.HISTOGRAM.ENABLE: per true class (or those of
HISTOGRAM.SUBSET_PATH), a bar chart of its HISTOGRAM.TOPK most frequent
predictions. Class names come from CLASS_NAMES_PATH, else are the class ids.
"""

import json
from dataclasses import dataclass

import torch
from fvcore.common.config import CfgNode
from matplotlib.figure import Figure

from timesformer.utils import distributed as du
from timesformer.visualization.class_names import (
    ClassNamesError,
    class_ids,
    read_class_names,
    read_name_subset,
)
from timesformer.visualization.plots import (
    confusion_matrix,
    confusion_matrix_figure,
    per_class_accuracy_figure,
    top_predictions_figure,
)


def eval_figures_enabled(cfg: CfgNode) -> bool:
    """Whether validation / test results are drawn (TENSORBOARD.ENABLE and a figure enabled)."""
    tb = cfg.TENSORBOARD
    return tb.ENABLE and (tb.CONFUSION_MATRIX.ENABLE or tb.HISTOGRAM.ENABLE)


@dataclass
class EvalFigureSettings:
    """What to draw, read from TENSORBOARD.* (class ids where the files give names)."""

    class_names: list[str]
    confusion_matrix: bool
    confusion_subset: list[int] | None
    categories: dict[str, list[int]]
    confusion_figsize: tuple
    histogram: bool
    histogram_classes: list[int]
    histogram_topk: int
    histogram_figsize: tuple

    @classmethod
    def from_cfg(cls, cfg: CfgNode) -> "EvalFigureSettings":
        """Raises ClassNamesError naming the file at fault."""
        tb, num_classes = cfg.TENSORBOARD, cfg.MODEL.NUM_CLASSES
        names = read_class_names(tb.CLASS_NAMES_PATH, num_classes) if tb.CLASS_NAMES_PATH else None
        names = names or [str(i) for i in range(num_classes)]
        cm, hist = tb.CONFUSION_MATRIX, tb.HISTOGRAM
        all_classes = list(range(num_classes))
        return cls(
            class_names=names,
            confusion_matrix=cm.ENABLE,
            confusion_subset=read_name_subset(cm.SUBSET_PATH, names) if cm.SUBSET_PATH else None,
            categories=_read_categories(tb.CATEGORIES_PATH, names) if tb.CATEGORIES_PATH else {},
            confusion_figsize=tuple(cm.FIGSIZE),
            histogram=hist.ENABLE,
            histogram_classes=read_name_subset(hist.SUBSET_PATH, names)
            if hist.SUBSET_PATH
            else all_classes,
            histogram_topk=hist.TOPK,
            histogram_figsize=tuple(hist.FIGSIZE),
        )


def _read_categories(path: str, class_names: list[str]) -> dict[str, list[int]]:
    """``{"parent": ["child class", ...]}`` JSON -> {parent: class ids}."""
    try:
        with open(path, encoding="utf-8") as stream:
            groups = json.load(stream)
    except (OSError, json.JSONDecodeError) as err:
        raise ClassNamesError(f"TENSORBOARD.CATEGORIES_PATH {path}: {err}") from err
    if not isinstance(groups, dict) or not all(isinstance(v, list) for v in groups.values()):
        raise ClassNamesError(
            f'TENSORBOARD.CATEGORIES_PATH {path}: expected {{"parent": ["class", ...]}}.'
        )
    return {parent: class_ids(children, class_names, path) for parent, children in groups.items()}


def _subset_figure(counts: torch.Tensor, ids: list[int], settings: EvalFigureSettings) -> Figure:
    index = torch.tensor(ids)
    names = [settings.class_names[i] for i in ids]
    return confusion_matrix_figure(counts[index][:, index], names, settings.confusion_figsize)


def eval_figures(
    predictions: torch.Tensor, labels: torch.Tensor, settings: EvalFigureSettings
) -> dict[str, Figure]:
    """Figures by tag (without split prefix) for top-1 ``predictions`` and ``labels`` (N,);
    labels -1 are left out."""
    kept = labels >= 0
    counts = confusion_matrix(predictions[kept], labels[kept], len(settings.class_names))
    names, figsize = settings.class_names, settings.confusion_figsize
    figures = {}
    if settings.confusion_matrix:
        figures["Confusion Matrix"] = confusion_matrix_figure(counts, names, figsize)
        figures["Per-class Accuracy"] = per_class_accuracy_figure(counts, names, figsize)
        if settings.confusion_subset:
            figures["Confusion Matrix Subset"] = _subset_figure(
                counts, settings.confusion_subset, settings
            )
        for parent, ids in settings.categories.items():
            figures[f"Hierarchical Confusion Matrix/{parent}"] = _subset_figure(
                counts, ids, settings
            )
    if settings.histogram:
        for class_id in settings.histogram_classes:
            tag = (
                f"Top {settings.histogram_topk} predictions by classes/"
                f"{settings.class_names[class_id]}"
            )
            figures[tag] = top_predictions_figure(
                counts[class_id],
                settings.class_names,
                class_id,
                settings.histogram_topk,
                settings.histogram_figsize,
            )
    return figures


class PredictionCollector:
    """Top-1 predictions and labels of an evaluation, from every process; does nothing when no
    figure is on."""

    def __init__(self, cfg: CfgNode):
        self.enabled = eval_figures_enabled(cfg)
        self.predictions: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []

    def add(self, scores: torch.Tensor, labels: torch.Tensor) -> None:
        """scores: (B, K), labels: (B,) of this process."""
        if self.enabled:
            self.predictions.append(scores.argmax(dim=1))
            self.labels.append(labels)

    def gather(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(predictions (N,), labels (N,)) of all processes on the CPU; call it on every process."""
        if not self.enabled or not self.predictions:
            return None
        predictions, labels = du.all_gather([torch.cat(self.predictions), torch.cat(self.labels)])
        return predictions.cpu(), labels.cpu()
