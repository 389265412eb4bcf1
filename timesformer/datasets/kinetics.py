"""Kinetics: ``path label`` split files, dense clips decoded from the videos."""

import os
from functools import partial

import numpy as np

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.clip_dataset import ClipDataset, VideoList
from timesformer.datasets.decoder import decode_clips, decode_test_clip, decode_to_end
from timesformer.datasets.sampling import RANDOM_CLIP, dense_clip_indices
from timesformer.datasets.split_file import read_path_label_file
from timesformer.datasets.video_container import open_video


@DATASET_REGISTRY.register()
class Kinetics(ClipDataset):
    """Kinetics-400/600 (or any ``path label`` video dataset).

    Split files ``DATA.PATH_TO_DATA_DIR/{train,val,test}.csv``, one
    ``path<DATA.PATH_LABEL_SEPARATOR>label`` line per video (with DATA.MULTI_LABEL,
    ``label,label,...``), paths relative to DATA.PATH_PREFIX. A clip is NUM_FRAMES frames
    SAMPLING_RATE apart at DATA.TARGET_FPS: at a random position in train/val, at the i-th of
    TEST.NUM_ENSEMBLE_VIEWS evenly spaced positions in test, with the frames the
    original's PyAV decoder takes there (:func:`~timesformer.datasets.decoder.decode_test_clip`).
    With DATA.TRAIN_CROP_NUM_TEMPORAL K > 1, a training video gives K clips at independent
    random positions from one decoding pass.

    Test views as the original's: 3 crops of the frames scaled to short side
    DATA.TEST_CROP_SIZE; 1 crop (the center) of the frames scaled to short side
    DATA.TRAIN_JITTER_SCALES[0].
    """

    def read_split(self) -> VideoList:
        data = self.cfg.DATA
        paths, labels = read_path_label_file(
            os.path.join(data.PATH_TO_DATA_DIR, f"{self.split}.csv"),
            data.PATH_LABEL_SEPARATOR,
            data.PATH_PREFIX,
            self.cfg.MODEL.NUM_CLASSES,
            multi_label=data.MULTI_LABEL,
        )
        return VideoList(paths, labels)

    def load_frames(self, video_idx: int, temporal_idx: int) -> np.ndarray:
        """(NUM_FRAMES, H, W, 3) uint8 frames of one dense clip; temporal_idx -1: random
        position."""
        if temporal_idx == RANDOM_CLIP:
            return self.load_random_clips(video_idx, 1)[0]
        data = self.cfg.DATA
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            return decode_test_clip(
                container,
                data.NUM_FRAMES,
                data.SAMPLING_RATE,
                data.TARGET_FPS,
                temporal_idx,
                self.cfg.TEST.NUM_ENSEMBLE_VIEWS,
            )

    def load_random_clips(self, video_idx: int, clip_count: int) -> np.ndarray:
        """(clip_count, NUM_FRAMES, H, W, 3) uint8 frames of dense clips at independent random
        positions, decoded in one pass over the frames their spans cover
        (:func:`~timesformer.datasets.decoder.decode_clips`)."""
        data = self.cfg.DATA
        choose_frames = partial(
            dense_clip_indices,
            num_frames=data.NUM_FRAMES,
            sampling_rate=data.SAMPLING_RATE,
            target_fps=data.TARGET_FPS,
            clip_idx=RANDOM_CLIP,
            num_clips=1,
        )
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            return decode_clips(container, choose_frames, clip_count, self.keyframe_indices)

    def test_short_side(self) -> int:
        """Short side of the frames test views are cropped from: DATA.TEST_CROP_SIZE for 3
        crops, DATA.TRAIN_JITTER_SCALES[0] for 1 (the original's Kinetics test views)."""
        data = self.cfg.DATA
        return (
            data.TEST_CROP_SIZE
            if self.cfg.TEST.NUM_SPATIAL_CROPS > 1
            else data.TRAIN_JITTER_SCALES[0]
        )

    def read_to_end(self, video_idx: int) -> None:
        """Decode every frame of the video (:func:`timesformer.datasets.decoder.decode_to_end`)."""
        with open_video(
            self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
        ) as container:
            decode_to_end(container)
