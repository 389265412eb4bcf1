"""Something-Something v2: segment sampling from JPEG frame folders or directly from .webm files."""

import os

import cv2
import numpy as np

from timesformer.datasets.build import DATASET_REGISTRY
from timesformer.datasets.clip_dataset import ClipDataset, VideoList
from timesformer.datasets.clip_frames import frames_to_clips
from timesformer.datasets.decoder import decode_clips, decode_to_end
from timesformer.datasets.sampling import segment_indices
from timesformer.datasets.ssv2_files import read_frame_lists, read_label_names, read_video_labels
from timesformer.datasets.video_container import VideoReadError, open_video
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

LABEL_NAMES_FILE = "something-something-v2-labels.json"


@DATASET_REGISTRY.register()
class Ssv2(ClipDataset):
    """Something-Something v2 in its official layout under DATA.PATH_TO_DATA_DIR.

    Labels: ``something-something-v2-labels.json`` and
    ``something-something-v2-{train,validation}.json`` (val and test both use
    the validation set). Frames: when the frame list ``train.csv`` / ``val.csv``
    exists, JPEG frames under DATA.PATH_PREFIX as it lists them; otherwise the
    videos themselves, ``DATA.PATH_PREFIX/<id>.webm``.

    A clip takes one frame from each of NUM_FRAMES equal segments of the video: a
    random one in train, the middle one in val/test. With DATA.TRAIN_CROP_NUM_TEMPORAL K > 1,
    a training video gives K such clips, their random frames drawn independently, from one
    read of the video. Horizontal flips are never
    applied, whatever DATA.RANDOM_FLIP says: labels such as "Pushing something
    from left to right" would become wrong.
    """

    random_flip_allowed = False

    def read_split(self) -> VideoList:
        data_dir = self.cfg.DATA.PATH_TO_DATA_DIR
        label_names = read_label_names(
            os.path.join(data_dir, LABEL_NAMES_FILE), self.cfg.MODEL.NUM_CLASSES
        )
        annotation = "train" if self.split == "train" else "validation"
        videos = read_video_labels(
            os.path.join(data_dir, f"something-something-v2-{annotation}.json"), label_names
        )
        frame_list = os.path.join(data_dir, "train.csv" if self.split == "train" else "val.csv")
        if os.path.exists(frame_list):
            return self._videos_with_frames(videos, frame_list)
        logger.info(
            "SSv2 %s: no frame list %s; decoding .webm videos directly", self.split, frame_list
        )
        paths = [
            os.path.join(self.cfg.DATA.PATH_PREFIX, f"{video_id}.webm") for video_id, _ in videos
        ]
        return VideoList(paths, [label for _, label in videos])

    def _videos_with_frames(self, videos, frame_list: str) -> VideoList:
        frames_by_id = read_frame_lists(frame_list, self.cfg.DATA.PATH_PREFIX)
        listed = [(video_id, label) for video_id, label in videos if video_id in frames_by_id]
        if len(listed) < len(videos):
            logger.warning(
                "SSv2 %s: %d of %d annotated videos have no frames in %s; they are left out",
                self.split,
                len(videos) - len(listed),
                len(videos),
                frame_list,
            )
        frame_paths = [frames_by_id[video_id] for video_id, _ in listed]
        folders = [os.path.dirname(paths[0]) for paths in frame_paths]
        return VideoList(folders, [label for _, label in listed], frame_paths)

    def load_frames(self, video_idx: int, temporal_idx: int) -> np.ndarray:
        """(NUM_FRAMES, H, W, 3) uint8 frames, one per segment (temporal_idx is not used:
        SSv2 views of one video differ only by their spatial crop)."""
        return self._read_clips(video_idx, 1, random_offset=self.split == "train")[0]

    def load_random_clips(self, video_idx: int, clip_count: int) -> np.ndarray:
        """(clip_count, NUM_FRAMES, H, W, 3) uint8: clips of a random frame per segment, drawn
        independently, read in one pass (each frame image, or the video once)."""
        return self._read_clips(video_idx, clip_count, random_offset=True)

    def _read_clips(self, video_idx: int, clip_count: int, random_offset: bool) -> np.ndarray:
        num_frames = self.cfg.DATA.NUM_FRAMES

        def choose_frames(count: int, _fps: float) -> np.ndarray:
            return segment_indices(count, num_frames, random_offset)

        if self.videos.frame_paths is None:
            with open_video(
                self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
            ) as container:
                return decode_clips(container, choose_frames, clip_count, self.keyframe_indices)
        frame_paths = self.videos.frame_paths[video_idx]
        clips = [choose_frames(len(frame_paths), 0.0) for _ in range(clip_count)]
        wanted = np.unique(np.concatenate(clips))
        return frames_to_clips({i: _read_rgb_image(frame_paths[i]) for i in wanted}, clips)

    def read_to_end(self, video_idx: int) -> None:
        """Decode every frame of the .webm video; or, for frame folders, every listed frame image
        (each one a clip may take: a missing one is named with the count of those missing)."""
        if self.videos.frame_paths is None:
            with open_video(
                self.paths[video_idx], self.cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE
            ) as container:
                decode_to_end(container)
            return
        frame_paths = self.videos.frame_paths[video_idx]
        missing = [path for path in frame_paths if not os.path.isfile(path)]
        if missing:
            raise VideoReadError(
                missing[0], f"frame image not found ({len(missing)} of {len(frame_paths)} missing)"
            )
        for path in frame_paths:
            _read_rgb_image(path)


def _read_rgb_image(path: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB image; VideoReadError when missing or unreadable."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        reason = (
            "frame image not found" if not os.path.exists(path) else "cannot decode frame image"
        )
        raise VideoReadError(path, reason)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
