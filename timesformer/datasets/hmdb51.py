"""HMDB51: 51 action classes, read from its published split files and video folders."""

import os

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.clip_dataset import VideoList
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.published_splits import (
    HMDB51_SPLIT_FILE,
    check_class_count,
    read_hmdb51_split,
    video_path,
)


@DATASET_REGISTRY.register()
class Hmdb51(Kinetics):
    """HMDB51 as published (TRAIN.DATASET / TEST.DATASET ``hmdb51``).

    Split files in ``DATA.PATH_TO_DATA_DIR`` (the extracted test_train_splits.rar): one
    ``{class}_test_splitN.txt`` per class, N = DATA.SPLIT_NUMBER, each video marked 1 (train),
    2 (test) or 0 (unused). Train reads the videos marked 1; val and test those marked 2 (HMDB51
    has no separate validation split). Classes are numbered in the order of their names;
    MODEL.NUM_CLASSES must equal their number (51). Videos: ``DATA.PATH_PREFIX/{class}/{video}.avi``
    (hmdb51_org.rar with each class's rar extracted into its class folder), or ``{video}.mp4``
    where tools/prepare_dataset.py resize wrote it. Clips and test views
    are read as Kinetics reads them.
    """

    def read_split(self) -> VideoList:
        data = self.cfg.DATA
        class_names, videos = read_hmdb51_split(
            data.PATH_TO_DATA_DIR, data.SPLIT_NUMBER, "train" if self.split == "train" else "test"
        )
        pattern = HMDB51_SPLIT_FILE.format(class_name="*", split_number=data.SPLIT_NUMBER)
        check_class_count(
            os.path.join(data.PATH_TO_DATA_DIR, pattern), class_names, self.cfg.MODEL.NUM_CLASSES
        )
        return VideoList(
            [video_path(data.PATH_PREFIX, video) for video, _ in videos],
            [label for _, label in videos],
        )
