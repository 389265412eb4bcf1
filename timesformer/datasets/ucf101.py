"""UCF101: 101 action classes, read from its published split files and video folder."""

import os

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.clip_dataset import VideoList
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.published_splits import (
    UCF101_CLASS_FILE,
    UCF101_TEST_LIST,
    UCF101_TRAIN_LIST,
    check_class_count,
    read_ucf101_classes,
    read_ucf101_list,
    video_path,
)


@DATASET_REGISTRY.register()
class Ucf101(Kinetics):
    """UCF101 as published (TRAIN.DATASET / TEST.DATASET ``ucf101``).

    Split files in ``DATA.PATH_TO_DATA_DIR`` (the ``ucfTrainTestlist`` folder of
    UCF101TrainTestSplits-RecognitionTask.zip): ``classInd.txt`` (the classes; MODEL.NUM_CLASSES
    must equal their number, 101), ``trainlist0N.txt`` (train) and ``testlist0N.txt`` (val and
    test: UCF101 has no separate validation split), N = DATA.SPLIT_NUMBER. Videos:
    ``DATA.PATH_PREFIX/{class}/{video}.avi`` (the published ``UCF-101`` folder), or
    ``{video}.mp4`` where tools/prepare_dataset.py resize wrote it. Clips and test
    views are read as Kinetics reads them.
    """

    def read_split(self) -> VideoList:
        data = self.cfg.DATA
        class_file = os.path.join(data.PATH_TO_DATA_DIR, UCF101_CLASS_FILE)
        class_names = read_ucf101_classes(class_file)
        check_class_count(class_file, class_names, self.cfg.MODEL.NUM_CLASSES)
        list_name = UCF101_TRAIN_LIST if self.split == "train" else UCF101_TEST_LIST
        videos = read_ucf101_list(
            os.path.join(data.PATH_TO_DATA_DIR, list_name.format(split_number=data.SPLIT_NUMBER)),
            class_names,
        )
        return VideoList(
            [video_path(data.PATH_PREFIX, video) for video, _ in videos],
            [label for _, label in videos],
        )
