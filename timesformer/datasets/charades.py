"""Charades: indoor activity videos with several actions each, read from its published files."""

import os

from timesformer.config import ConfigError
from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.charades_files import ANNOTATION_FILES, read_charades_videos
from timesformer.datasets.clip_dataset import VideoList
from timesformer.datasets.kinetics import Kinetics


@DATASET_REGISTRY.register()
class Charades(Kinetics):
    """Charades (157 action classes, several per video) as published.

    Labels: ``DATA.PATH_TO_DATA_DIR/Charades_v1_train.csv`` (train) and ``Charades_v1_test.csv``
    (val and test: Charades has no other validation split); a video's labels are every class of
    its ``actions`` column (video-level labels, the multi-hot targets of DATA.MULTI_LABEL, which
    this dataset needs). Videos: ``DATA.PATH_PREFIX/<id>.mp4`` (the published
    ``Charades_v1_480`` folder). Clips are read as Kinetics reads them: NUM_FRAMES frames
    SAMPLING_RATE apart at DATA.TARGET_FPS, at a random position in train/val, at
    TEST.NUM_ENSEMBLE_VIEWS evenly spaced positions in test (combined by TEST.ENSEMBLE_METHOD,
    "max" in the shipped config, as PySlowFast's Charades configs combine them).
    """

    def read_split(self) -> VideoList:
        if not self.cfg.DATA.MULTI_LABEL:
            raise ConfigError(
                "Charades gives several labels per video: set DATA.MULTI_LABEL True (with "
                "MODEL.LOSS_FUNC bce_logit), as configs/Charades/ do."
            )
        annotation = ANNOTATION_FILES["train" if self.split == "train" else "test"]
        videos = read_charades_videos(
            os.path.join(self.cfg.DATA.PATH_TO_DATA_DIR, annotation), self.cfg.MODEL.NUM_CLASSES
        )
        paths = [
            os.path.join(self.cfg.DATA.PATH_PREFIX, f"{video_id}.mp4") for video_id, _ in videos
        ]
        return VideoList(paths, [labels for _, labels in videos])
