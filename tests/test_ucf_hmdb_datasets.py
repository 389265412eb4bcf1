"""UCF101 and HMDB51 built from tiny trees in their published layouts: the videos of each split
number and part with their labels, items read from .avi files, the class count checked against
MODEL.NUM_CLASSES, and the shipped fine-tuning configs."""

import argparse
import os

import pytest

from helpers import REPO_ROOT, TINY_VIDEO_DATA, tiny_cfg, write_frame_number_video
from timesformer.datasets import build_dataset
from timesformer.datasets.split_file import SplitFileError
from timesformer.utils.parser import load_config

UCF_CLASSES = ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
UCF_SPLITS = {
    1: (["g08", "g09"], ["g01"]),
    2: (["g01", "g09"], ["g08"]),
}
"""Split number: (groups of the train list, groups of the test list); one video per class and
group."""

HMDB_VIDEOS = {
    "brush_hair": {
        "April_09_brush_hair_u_nm_np1_ba_goo_0.avi": (1, 2),
        "Brushing_Hair!_0.avi": (2, 1),
    },
    "cartwheel": {"(Rad)Schlag_die_Bank!_0.avi": (1, 1), "Tony's_Lawn_&_[x]_0.avi": (2, 0)},
}
"""Class: {video: (mark in split 1, mark in split 2)}."""


def ucf_name(class_name: str, group: str) -> str:
    # The published file names spell a class otherwise at times (v_HandStandPushups_...).
    spelled = "HandStandPushups" if class_name == "HandstandPushups" else class_name
    return f"{class_name}/v_{spelled}_{group}_c01.avi"


def write_tiny_video(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_frame_number_video(path, 12, 32, 48, 30)


@pytest.fixture(scope="module")
def ucf101_tree(tmp_path_factory):
    """(ucfTrainTestlist folder, UCF-101 folder) with CRLF split files, as published."""
    root = tmp_path_factory.mktemp("ucf101")
    lists, videos = root / "ucfTrainTestlist", root / "UCF-101"
    lists.mkdir()
    (lists / "classInd.txt").write_bytes(
        "".join(f"{i} {name}\r\n" for i, name in enumerate(UCF_CLASSES, start=1)).encode()
    )
    for number, (train_groups, test_groups) in UCF_SPLITS.items():
        train = [
            f"{ucf_name(c, g)} {i + 1}\r\n" for g in train_groups for i, c in enumerate(UCF_CLASSES)
        ]
        test = [f"{ucf_name(c, g)}\r\n" for g in test_groups for c in UCF_CLASSES]
        (lists / f"trainlist0{number}.txt").write_text("".join(train), newline="")
        (lists / f"testlist0{number}.txt").write_text("".join(test), newline="")
    for group in ("g01", "g08", "g09"):
        for class_name in UCF_CLASSES:
            write_tiny_video(str(videos / ucf_name(class_name, group)))
    return str(lists), str(videos)


@pytest.fixture(scope="module")
def hmdb51_tree(tmp_path_factory):
    """(testTrainMulti_7030_splits folder, videos folder) with the published marks."""
    root = tmp_path_factory.mktemp("hmdb51")
    splits, videos = root / "testTrainMulti_7030_splits", root / "videos"
    splits.mkdir()
    for number in (1, 2):
        for class_name, marks in HMDB_VIDEOS.items():
            lines = "".join(f"{video} {mark[number - 1]} \r\n" for video, mark in marks.items())
            (splits / f"{class_name}_test_split{number}.txt").write_text(lines, newline="")
    for class_name, marks in HMDB_VIDEOS.items():
        for video in marks:
            write_tiny_video(str(videos / class_name / video))
    return str(splits), str(videos)


def dataset_cfg(tree, num_classes: int, split_number: int):
    data_dir, prefix = tree
    return tiny_cfg(
        data_dir,
        "",
        *TINY_VIDEO_DATA,
        "MODEL.NUM_CLASSES",
        str(num_classes),
        "DATA.SPLIT_NUMBER",
        str(split_number),
        "DATA.PATH_PREFIX",
        prefix,
    )


@pytest.mark.parametrize("split_number", [1, 2])
def test_ucf101_splits_list_their_videos_and_labels(ucf101_tree, split_number):
    cfg = dataset_cfg(ucf101_tree, 3, split_number)
    prefix = ucf101_tree[1]
    train_groups, test_groups = UCF_SPLITS[split_number]
    train = build_dataset("ucf101", cfg, "train")
    assert train.paths == [
        os.path.join(prefix, ucf_name(c, g)) for g in train_groups for c in UCF_CLASSES
    ]
    assert list(train.labels) == [0, 1, 2] * len(train_groups)
    for split in ("val", "test"):
        dataset = build_dataset("ucf101", cfg, split)
        assert dataset.paths == [
            os.path.join(prefix, ucf_name(c, g)) for g in test_groups for c in UCF_CLASSES
        ]
        assert list(dataset.labels) == [0, 1, 2] * len(test_groups)


def test_ucf101_items_load_as_kinetics_clips(ucf101_tree):
    cfg = dataset_cfg(ucf101_tree, 3, 1)
    frames, label, _, meta = build_dataset("ucf101", cfg, "train")[4]
    assert tuple(frames.shape) == (3, 4, 32, 32) and label == 1
    test = build_dataset("ucf101", cfg, "test")
    assert len(test) == 3 * 2 * 3  # videos x ensemble views x spatial crops
    frames, label, _, meta = test[len(test) - 1]
    assert tuple(frames.shape) == (3, 4, 32, 32) and label == 2
    assert (meta["temporal_idx"], meta["spatial_idx"]) == (1, 2)


def test_hmdb51_splits_list_their_videos_and_labels(hmdb51_tree):
    prefix = hmdb51_tree[1]
    for number in (1, 2):
        cfg = dataset_cfg(hmdb51_tree, 2, number)
        for split, mark in (("train", 1), ("val", 2), ("test", 2)):
            dataset = build_dataset("hmdb51", cfg, split)
            expected = [
                (os.path.join(prefix, class_name, video), label)
                for label, (class_name, marks) in enumerate(sorted(HMDB_VIDEOS.items()))
                for video, video_marks in marks.items()
                if video_marks[number - 1] == mark
            ]
            assert list(zip(dataset.paths, dataset.labels, strict=True)) == expected


def test_hmdb51_item_with_odd_characters_in_its_name_loads(hmdb51_tree):
    dataset = build_dataset("hmdb51", dataset_cfg(hmdb51_tree, 2, 2), "train")
    assert os.path.basename(dataset.paths[-1]) == "(Rad)Schlag_die_Bank!_0.avi"
    frames, label, _, meta = dataset[len(dataset) - 1]
    assert tuple(frames.shape) == (3, 4, 32, 32) and label == 1
    assert meta["num_decode_failures"] == 0


@pytest.mark.parametrize("name, tree", [("ucf101", "ucf101_tree"), ("hmdb51", "hmdb51_tree")])
def test_a_class_count_other_than_the_files_names_the_key(request, name, tree):
    cfg = dataset_cfg(request.getfixturevalue(tree), 5, 1)
    with pytest.raises(SplitFileError, match="but MODEL.NUM_CLASSES is 5; set MODEL.NUM_CLASSES"):
        build_dataset(name, cfg, "train")


@pytest.mark.parametrize(
    "folder, dataset, classes", [("UCF101", "ucf101", 101), ("HMDB51", "hmdb51", 51)]
)
def test_shipped_finetune_config_starts_from_the_kinetics_checkpoint(folder, dataset, classes):
    path = os.path.join(REPO_ROOT, "configs", folder, "TimeSformer_divST_8x32_224_finetune.yaml")
    cfg = load_config(argparse.Namespace(cfg_file=path, opts=[]), check_devices=False)
    assert (cfg.TRAIN.DATASET, cfg.TEST.DATASET, cfg.MODEL.NUM_CLASSES) == (
        dataset,
        dataset,
        classes,
    )
    assert cfg.TRAIN.FINETUNE is True and cfg.DATA.SPLIT_NUMBER == 1
    assert (
        os.path.basename(cfg.TRAIN.CHECKPOINT_FILE_PATH) == "TimeSformer_divST_8x32_224_K400.pyth"
    )
    assert cfg.SOLVER.MAX_EPOCH == 15 and cfg.SOLVER.STEPS[-1] < cfg.SOLVER.MAX_EPOCH
