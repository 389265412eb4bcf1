"""Several labels per video (DATA.MULTI_LABEL): split files with comma-separated labels,
Charades' published CSVs, the bce_logit loss, Mixup of multi-hot targets, mean average precision
in validation and test (equal to scikit-learn's), per-class AP in the results file and
TensorBoard, and the config checks that keep the pieces together."""

import os

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import REPO_ROOT, json_stats, run_net, tiny_args, tiny_cfg
from timesformer.config import ConfigError, assert_and_infer_cfg, get_cfg
from timesformer.config.merge import merge_yaml_file
from timesformer.datasets import build_dataset
from timesformer.datasets.charades_files import read_charades_videos
from timesformer.datasets.mixup import build_mixup
from timesformer.datasets.split_file import SplitFileError, read_path_label_file
from timesformer.datasets.synthetic_video import write_video
from timesformer.engine.inference import shown_scores
from timesformer.models.losses import build_train_loss
from timesformer.utils.meters import TestMeter
from timesformer.utils.metrics import average_precisions

MULTI_LABEL = ["DATA.MULTI_LABEL", "True", "MODEL.LOSS_FUNC", "bce_logit"]
COLORS = {(0,): (200, 30, 30), (1,): (30, 200, 30), (2,): (30, 30, 200)}
COLORS |= {(0, 1): (200, 200, 30), (1, 2): (30, 200, 200), (0, 1, 2): (200, 200, 200)}
"""Flat videos whose labels are their bright channels (red 0, green 1, blue 2)."""


def _write_split(path, lines):
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("".join(line + "\n" for line in lines))
    return str(path)


def test_split_file_lines_list_several_labels(tmp_path):
    path = _write_split(tmp_path / "train.csv", ["a b.mp4 3,1", "c.mp4 2", "d.mp4 0,4,2"])
    paths, labels = read_path_label_file(path, " ", "/v", 5, multi_label=True)
    assert paths == ["/v/a b.mp4", "/v/c.mp4", "/v/d.mp4"]
    assert labels == [(1, 3), (2,), (0, 2, 4)]


@pytest.mark.parametrize(
    ("line", "multi_label", "message"),
    [
        ("a.mp4 1,2", False, "set DATA.MULTI_LABEL True"),
        ("a.mp4 1,1", True, "a label is listed twice"),
        ("a.mp4 1,x", True, "label 'x' is not an integer"),
        ("a.mp4 1,7", True, "label 7 is out of range [0, 5)"),
    ],
)
def test_split_file_label_lists_are_checked(tmp_path, line, multi_label, message):
    path = _write_split(tmp_path / "train.csv", ["ok.mp4 0", line])
    with pytest.raises(SplitFileError) as error:
        read_path_label_file(path, " ", "", 5, multi_label=multi_label)
    assert str(error.value).startswith(f"{path}:2: ") and message in str(error.value)


CHARADES_HEADER = (
    "id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length"
)


def _write_charades(path, rows):
    lines = [CHARADES_HEADER]
    lines += [
        f'{vid},S1,Kitchen,6,7,Yes,"A person, cooking.",food,"Cooks, then eats.",{a},30.1'
        for vid, a in rows
    ]
    return _write_split(path, lines)


def test_charades_csv_gives_video_level_labels(tmp_path):
    path = _write_charades(
        tmp_path / "Charades_v1_train.csv",
        [
            ("46GP8", '"c092 11.90 21.20;c147 0.00 12.60;c092 25.0 30.0"'),
            ("N11GT", ""),
            ("0IH69", "c002 1 5"),
        ],
    )
    assert read_charades_videos(path, 157) == [("46GP8", (92, 147)), ("N11GT", ()), ("0IH69", (2,))]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("A1", "c092 11.90")], "malformed actions entry 'c092 11.90'"),
        ([("A1", '"c92 1 2"')], "malformed actions entry 'c92 1 2'"),
        ([("A1", "c200 1 2")], "class c200 is out of range [0, 157)"),
        ([("A1", "c001 1 2"), ("A1", "c002 1 2")], "video id 'A1' is listed twice"),
    ],
)
def test_charades_csv_mistakes_name_the_line(tmp_path, rows, message):
    path = _write_charades(tmp_path / "Charades_v1_train.csv", rows)
    with pytest.raises(SplitFileError) as error:
        read_charades_videos(path, 157)
    assert str(error.value).startswith(f"{path}:{len(rows) + 1}: ") and message in str(error.value)


def test_average_precisions_are_scikit_learns_and_skip_classes_without_positives():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(40, 4, generator=generator)
    targets = (torch.rand(40, 4, generator=generator) > 0.6).float()
    targets[:, 2] = 0  # no positive video
    mean_ap, per_class = average_precisions(scores, targets)
    expected = [average_precision_score(targets[:, k], scores[:, k]) * 100 for k in (0, 1, 3)]
    assert torch.isnan(per_class[2])
    np.testing.assert_allclose(per_class[[0, 1, 3]].numpy(), expected)
    assert mean_ap == pytest.approx(np.mean(expected))


def test_bce_logit_loss_takes_multi_hot_and_class_id_targets_with_smoothing():
    cfg = tiny_cfg("", "", *MULTI_LABEL, "MODEL.NUM_CLASSES", "3", "MODEL.LABEL_SMOOTHING", "0.2")
    loss = build_train_loss(cfg)
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 1.0, -3.0]])
    multi_hot = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    smoothed = multi_hot * 0.8 + 0.1
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, smoothed)
    torch.testing.assert_close(loss(logits, multi_hot), expected)
    one_hot = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) * 0.8 + 0.1
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, one_hot)
    torch.testing.assert_close(loss(logits, torch.tensor([0, 2])), expected)


@pytest.mark.parametrize("mode", ["batch", "elem"])
def test_mixup_mixes_multi_hot_targets_as_it_mixes_the_clips(mode):
    """Mixup only (no CutMix): clip i becomes lam_i * clip_i + (1 - lam_i) * clip_{B-1-i}, and so
    must its smoothed multi-hot target."""
    cfg = tiny_cfg(
        "", "", *MULTI_LABEL, "MODEL.NUM_CLASSES", "3", "MIXUP.ENABLED", "True",
        "MIXUP.CUTMIX_ALPHA", "0.0", "MIXUP.MODE", mode, "MIXUP.LABEL_SMOOTHING", "0.1",
    )  # fmt: skip
    torch.manual_seed(0)
    np.random.seed(0)
    levels = torch.tensor([0.0, 1.0, 2.0, 3.0])
    clips = levels.view(4, 1, 1, 1, 1).expand(4, 3, 2, 4, 4).clone()
    labels = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 1, 1], [1, 1, 1]])
    mixed, targets = build_mixup(cfg)(clips, labels)
    lam = (mixed[:, 0, 0, 0, 0] - levels.flip(0)) / (levels - levels.flip(0))  # (B,)
    smoothed = labels * 0.9 + 0.05
    expected = lam[:, None] * smoothed + (1 - lam[:, None]) * smoothed.flip(0)
    torch.testing.assert_close(targets, expected)
    assert not torch.allclose(lam, torch.ones(4))  # something was mixed


def test_test_meter_combines_sigmoids_by_max_and_reports_scikit_learns_map():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(6 * 2, 3, generator=generator)  # 6 videos x 2 views
    labels = torch.tensor([[1.0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 0]])
    meter = TestMeter(6, 2, 3, "max", multi_label=True)
    meter.update(logits, labels.repeat_interleave(2, dim=0), torch.arange(12))
    stats = meter.finalize()
    video_scores = logits.sigmoid().view(6, 2, 3).amax(dim=1)
    torch.testing.assert_close(meter.video_scores, video_scores)
    expected = average_precision_score(labels.numpy(), video_scores.numpy(), average="macro")
    assert stats["map"] == pytest.approx(100 * expected)
    assert "top1_acc" not in stats


def test_test_meter_counts_skipped_multi_label_videos():
    meter = TestMeter(2, 1, 3, "sum", multi_label=True)
    labels = torch.tensor([[1.0, 0, 1], [-1.0, -1.0, -1.0]])
    meter.update(torch.zeros(2, 3), labels, torch.arange(2))
    assert meter.skipped.tolist() == [False, True] and meter.incomplete_videos() == []


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["DATA.MULTI_LABEL", "True"], "MODEL.LOSS_FUNC"),
        ([*MULTI_LABEL, "TEST.ENSEMBLE_SOFTMAX", "True"], "TEST.ENSEMBLE_SOFTMAX"),
        ([*MULTI_LABEL, "TENSORBOARD.CONFUSION_MATRIX.ENABLE", "True"], "CONFUSION_MATRIX"),
    ],
)
def test_multi_label_config_mistakes_name_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key):
        tiny_cfg("", "", *overrides)


def _write_color_multi_label_dataset(root) -> str:
    """Two flat videos of each label set of COLORS; split files ``path a,b`` for all splits."""
    os.makedirs(root, exist_ok=True)
    lines = []
    for labels, color in COLORS.items():
        for copy in range(2):
            name = f"{'_'.join(map(str, labels))}_{copy}.mp4"
            clip = np.tile(np.array(color, dtype=np.uint8) - 10 * copy, (8, 32, 32, 1))
            write_video(os.path.join(root, name), clip, fps=30)
            lines.append(f"{os.path.join(root, name)} {','.join(map(str, labels))}")
    for split in ("train", "val", "test"):
        _write_split(os.path.join(root, f"{split}.csv"), lines)
    return str(root)


def test_multi_label_dataset_items_are_multi_hot(tmp_path):
    data = _write_color_multi_label_dataset(tmp_path / "data")
    cfg = tiny_cfg(data, "", *MULTI_LABEL, "MODEL.NUM_CLASSES", "3")
    dataset = build_dataset("kinetics", cfg, "test")
    _, label, _, _ = dataset[dataset.views_per_video * 8]  # the first video of (1, 2)
    assert label.tolist() == [0.0, 1.0, 1.0]


def test_multi_label_run_trains_validates_and_tests_with_map(tmp_path):
    """run_net on multi-label videos: val_epoch and test_final report the mAP; the results file
    holds multi-hot labels, per-class AP, and scores whose scikit-learn mAP is the logged one."""
    data = _write_color_multi_label_dataset(tmp_path / "data")
    out = str(tmp_path / "run")
    args = tiny_args(
        data, out, *MULTI_LABEL, "MODEL.NUM_CLASSES", "3", "SOLVER.MAX_EPOCH", "2",
        "TEST.ENSEMBLE_METHOD", "max", "TEST.SAVE_RESULTS_PATH", "results.pyth",
        "TENSORBOARD.ENABLE", "True",
    )  # fmt: skip
    assert run_net(args) == 0
    records = json_stats(out)
    train_epochs = [r for r in records if r["split"] == "train_epoch"]
    val_epochs = [r for r in records if r["split"] == "val_epoch"]
    assert len(train_epochs) == 2 and "top1_err" not in train_epochs[0]
    assert len(val_epochs) == 2 and 0 <= val_epochs[-1]["map"] <= 100
    assert val_epochs[-1]["max_map"] == max(r["map"] for r in val_epochs)
    final = records[-1]
    assert final["split"] == "test_final" and final["videos"] == 12
    results = torch.load(os.path.join(out, "results.pyth"), weights_only=False)
    assert results["multi_label"] and results["labels"].shape == (12, 3)
    expected = average_precision_score(results["labels"].numpy(), results["scores"].numpy())
    assert final["map"] == pytest.approx(100 * expected)
    assert results["map"] == pytest.approx(final["map"])
    assert results["per_class_ap"].shape == (3,)
    board = EventAccumulator(os.path.join(out, "runs-kinetics")).Reload()
    assert {"Val/Per-class AP", "Test/Per-class AP"} <= set(board.Tags()["images"])
    assert [event.value for event in board.Scalars("Val/mAP")] == pytest.approx(
        [r["map"] for r in val_epochs]
    )


def test_charades_needs_multi_label(tmp_path):
    _write_charades(tmp_path / "Charades_v1_train.csv", [("A1", "c001 1 2")])
    cfg = tiny_cfg(str(tmp_path), "", "MODEL.NUM_CLASSES", "157")
    with pytest.raises(ConfigError, match="DATA.MULTI_LABEL True"):
        build_dataset("charades", cfg, "train")


def test_charades_dataset_reads_the_published_files(tmp_path):
    _write_charades(tmp_path / "Charades_v1_train.csv", [("A1", '"c001 1 2;c156 0 3"'), ("B2", "")])
    _write_charades(tmp_path / "Charades_v1_test.csv", [("C3", "c000 0 1")])
    cfg = tiny_cfg(str(tmp_path), "", *MULTI_LABEL, "MODEL.NUM_CLASSES", "157")
    train = build_dataset("charades", cfg, "train")
    assert train.paths == [str(tmp_path / "A1.mp4"), str(tmp_path / "B2.mp4")]
    assert list(train.labels) == [(1, 156), ()]
    assert build_dataset("charades", cfg, "val").paths == [str(tmp_path / "C3.mp4")]


def test_shipped_charades_config_is_multi_label_with_max_of_views():
    path = os.path.join(REPO_ROOT, "configs", "Charades", "TimeSformer_divST_8x32_224.yaml")
    cfg = assert_and_infer_cfg(merge_yaml_file(get_cfg(), path), check_devices=False)
    assert (cfg.TRAIN.DATASET, cfg.TEST.DATASET, cfg.MODEL.NUM_CLASSES) == ("charades",) * 2 + (
        157,
    )
    assert cfg.DATA.MULTI_LABEL and cfg.MODEL.LOSS_FUNC == "bce_logit"
    assert cfg.TEST.ENSEMBLE_METHOD == "max" and cfg.TRAIN.FINETUNE


@pytest.mark.parametrize(("method", "expected"), [("sum", "mean"), ("max", "amax")])
def test_predict_shows_each_classs_probability_combined_over_views(method, expected):
    cfg = tiny_cfg("", "", *MULTI_LABEL, "MODEL.NUM_CLASSES", "3", "TEST.ENSEMBLE_METHOD", method)
    view_logits = torch.tensor([[2.0, -1.0, 0.0], [0.5, -3.0, 1.0]])
    shown = shown_scores(view_logits, cfg)
    torch.testing.assert_close(shown, getattr(view_logits.sigmoid(), expected)(dim=0))
