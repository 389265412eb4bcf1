"""Kinetics: ``path label`` split files, dense clips decoded from the videos."""

import os
from functools import partial

import numpy as np

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.clip_dataset import ClipDataset, VideoList
from timesformer.datasets.decoder import decode_clip, decode_to_end
from timesformer.datasets.sampling import dense_clip_indices
from timesformer.datasets.split_file import read_path_label_file
from timesformer.datasets.video_container import open_video


@DATASET_REGISTRY.register()
class Kinetics(ClipDataset):
    """Kinetics-400/600 (or any ``path label`` video dataset).

    Split files ``DATA.PATH_TO_DATA_DIR/{train,val,test}.csv``, one
    ``path<DATA.PATH_LABEL_SEPARATOR>label`` line per video, paths relative to
    DATA.PATH_PREFIX. A clip is NUM_FRAMES frames SAMPLING_RATE apart at
    DATA.TARGET_FPS: at a random position in train/val, at the i-th of
    TEST.NUM_ENSEMBLE_VIEWS evenly spaced positions in test.
    """

    def read_split(self) -> VideoList:
        data = self.cfg.DATA
        paths, labels = read_path_label_file(
            os.path.join(data.PATH_TO_DATA_DIR, f"{self.split}.csv"),
            data.PATH_LABEL_SEPARATOR,
            data.PATH_PREFIX,
            self.cfg.MODEL.NUM_CLASSES,
        )
        return VideoList(paths, labels)

    def load_frames(self, video_idx: int, temporal_idx: int) -> np.ndarray:
        """(NUM_FRAMES, H, W, 3) uint8 frames of one dense clip; temporal_idx -1: random
        position."""
        data = self.cfg.DATA
        choose_frames = partial(
            dense_clip_indices,
            num_frames=data.NUM_FRAMES,
            sampling_rate=data.SAMPLING_RATE,
            target_fps=data.TARGET_FPS,
            clip_idx=temporal_idx,
            num_clips=self.cfg.TEST.NUM_ENSEMBLE_VIEWS,
        )
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            return decode_clip(container, choose_frames)

    def read_to_end(self, video_idx: int) -> None:
        """Decode every frame of the video (:func:`timesformer.datasets.decoder.decode_to_end`)."""
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            decode_to_end(container)
