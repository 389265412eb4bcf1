"""Figures of evaluation results: confusion matrix counts and every figure the TENSORBOARD keys ask
for."""

import json

import pytest
import torch

from helpers import tiny_cfg
from timesformer.visualization.class_names import ClassNamesError
from timesformer.visualization.eval_figures import EvalFigureSettings, eval_figures
from timesformer.visualization.plots import confusion_matrix
from timesformer.visualization.tensorboard_vis import TensorboardWriter


def _settings_cfg(tmp_path, *overrides):
    (tmp_path / "names.txt").write_text("run\nswim\njump\n")
    (tmp_path / "subset.txt").write_text("swim\njump\n")
    (tmp_path / "groups.json").write_text(json.dumps({"water": ["swim"], "land": ["run", "jump"]}))
    return tiny_cfg(
        str(tmp_path),
        str(tmp_path),
        "MODEL.NUM_CLASSES",
        "3",
        "TENSORBOARD.ENABLE",
        "True",
        "TENSORBOARD.CLASS_NAMES_PATH",
        str(tmp_path / "names.txt"),
        *overrides,
    )


def test_confusion_matrix_counts():
    counts = confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 0, 1, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_figures_of_every_setting(tmp_path):
    cfg = _settings_cfg(
        tmp_path,
        "TENSORBOARD.CONFUSION_MATRIX.ENABLE",
        "True",
        "TENSORBOARD.CONFUSION_MATRIX.SUBSET_PATH",
        str(tmp_path / "subset.txt"),
        "TENSORBOARD.CATEGORIES_PATH",
        str(tmp_path / "groups.json"),
        "TENSORBOARD.HISTOGRAM.ENABLE",
        "True",
        "TENSORBOARD.HISTOGRAM.SUBSET_PATH",
        str(tmp_path / "subset.txt"),
        "TENSORBOARD.HISTOGRAM.TOPK",
        "2",
    )
    figures = eval_figures(
        torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, -1, 1]), EvalFigureSettings.from_cfg(cfg)
    )
    assert sorted(figures) == [
        "Confusion Matrix",
        "Confusion Matrix Subset",
        "Hierarchical Confusion Matrix/land",
        "Hierarchical Confusion Matrix/water",
        "Per-class Accuracy",
        "Top 2 predictions by classes/jump",
        "Top 2 predictions by classes/swim",
    ]
    swim_bars = [
        text.get_text()
        for text in figures["Top 2 predictions by classes/swim"].axes[0].get_xticklabels()
    ]
    assert swim_bars == ["swim", "jump"]  # one video each; the -1 label is left out


def test_unknown_subset_class_fails_when_the_writer_starts(tmp_path):
    (tmp_path / "bad.txt").write_text("fly\n")
    cfg = _settings_cfg(
        tmp_path,
        "TENSORBOARD.HISTOGRAM.ENABLE",
        "True",
        "TENSORBOARD.HISTOGRAM.SUBSET_PATH",
        str(tmp_path / "bad.txt"),
    )
    with pytest.raises(ClassNamesError, match="unknown class name.*'fly'"):
        TensorboardWriter(cfg)
