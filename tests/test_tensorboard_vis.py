"""Class-name files, evaluation figures, and the Val/ and Test/ pictures a run writes to
TensorBoard."""

import json
import os

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import tiny_cfg, write_color_dataset
from timesformer.engine import tester, trainer
from timesformer.visualization.class_names import ClassNamesError, read_class_names
from timesformer.visualization.eval_figures import EvalFigureSettings, eval_figures
from timesformer.visualization.plots import confusion_matrix
from timesformer.visualization.tensorboard_vis import TensorboardWriter


@pytest.mark.parametrize(
    "name, text",
    [
        ("names.json", json.dumps({"b": 1, "a": 0, "c": 2})),
        ("names.json", json.dumps(["a", "b", "c"])),
        ("names.txt", "a\nb\nc\n\n"),
    ],
)
def test_class_name_formats(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert read_class_names(str(path), num_classes=3) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "text, message",
    [
        (json.dumps({"a": 0, "b": 2}), "ids must be 0..1"),
        (json.dumps({"a": "x"}), "must be an integer"),
        ("{broken", "not valid JSON"),
        (json.dumps(["a", "b"]), "has 2 classes but the model has 3"),
    ],
)
def test_class_name_errors(tmp_path, text, message):
    path = tmp_path / "names.json"
    path.write_text(text)
    with pytest.raises(ClassNamesError, match=message):
        read_class_names(str(path), num_classes=3)


def test_confusion_matrix_counts():
    counts = confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 0, 1, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


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


def _event_tags(log_dir: str) -> dict[str, list[str]]:
    accumulator = EventAccumulator(log_dir, size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator.Tags()


def test_training_and_testing_write_scalars_and_pictures(tmp_path):
    data_dir = write_color_dataset(str(tmp_path / "data"), videos_per_class=2)
    cfg = tiny_cfg(
        data_dir,
        str(tmp_path / "run"),
        "SOLVER.MAX_EPOCH",
        "1",
        "TENSORBOARD.ENABLE",
        "True",
        "TENSORBOARD.CONFUSION_MATRIX.ENABLE",
        "True",
        "TENSORBOARD.HISTOGRAM.ENABLE",
        "True",
    )
    trainer.train(cfg)
    tester.test(cfg)
    log_dir = os.path.join(cfg.OUTPUT_DIR, "runs-kinetics")
    scalars = _event_tags(log_dir)["scalars"]
    for tag in (
        "Train/loss",
        "Train/lr",
        "Train/Top1_err",
        "Train/Top5_err",
        "Val/Top1_err",
        "Val/Top5_err",
    ):
        assert tag in scalars
    tags = _event_tags(log_dir)["images"]
    for split in ("Val", "Test"):
        assert f"{split}/Confusion Matrix" in tags
        assert f"{split}/Per-class Accuracy" in tags
        assert f"{split}/Top 10 predictions by classes/1" in tags
