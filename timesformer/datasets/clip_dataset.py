"""The dataset base class: views per video, transforms, and what happens on bad videos.

A subclass lists its videos (``paths``, ``labels``) and reads the frames of one
clip (``load_frames``), or of several random training clips of a video in one pass
(``load_random_clips``); this class turns item indices into (video, temporal
view, spatial crop), applies the train or test transform, replaces unreadable
videos in train/val and reports them in test.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from timesformer.config.batch import views_per_video
from timesformer.datasets import transform
from timesformer.datasets.clip_augment import build_clip_augment
from timesformer.datasets.keyframe_index import KeyframeIndexCache
from timesformer.datasets.sampling import RANDOM_CLIP
from timesformer.datasets.split_file import SPLITS, Labels
from timesformer.datasets.video_container import VideoReadError
from timesformer.errors import TimesformerError
from timesformer.utils.logging import get_logger
from timesformer.utils.targets import multi_hot

logger = get_logger(__name__)


class TooManyUnreadableVideosError(TimesformerError, RuntimeError):
    """More videos in a row than DATA.NUM_RETRIES could not be read in training or validation."""


@dataclass(frozen=True)
class VideoList:
    """The videos of a dataset: one path and one label (-1: unknown) per video, or with
    DATA.MULTI_LABEL a tuple of class ids (possibly empty), and, for a dataset read from frame
    images (SSv2's JPEG folders), each video's frame files in order."""

    paths: list[str]
    labels: Sequence[Labels]
    frame_paths: list[list[str]] | None = None


class ClipDataset(torch.utils.data.Dataset):
    """Items are ``(frames, label, index, meta)``.

    ``frames``: (3, NUM_FRAMES, crop, crop) float; ``label``: int (-1 for a skipped
    test video), or with DATA.MULTI_LABEL the multi-hot (MODEL.NUM_CLASSES,) float32 of the
    video's class ids (all -1 for a skipped test video); ``index``: the item index (of the
    replacement video when one was used); ``meta``: ``{"video_idx", "temporal_idx", "spatial_idx",
    "num_decode_failures"}`` (ints; -1 for random positions in train/val).

    Test split: ``views_per_video = NUM_ENSEMBLE_VIEWS * NUM_SPATIAL_CROPS`` items per
    video; item ``i`` is video ``i // views_per_video``, temporal view
    ``(i % views_per_video) // NUM_SPATIAL_CROPS``, spatial crop ``i % NUM_SPATIAL_CROPS``.
    Train/val: one item per video (``views_per_video`` 1).

    Train split with DATA.TRAIN_CROP_NUM_TEMPORAL K > 1 (``clips_per_video``): an item holds
    the K clips of one video, read in one pass (:meth:`load_random_clips`), each with its own
    spatial augmentation, as lists: ``([frames] * K, [label] * K, [index] * K, [meta] * K)``
    (PySlowFast's layout; :func:`timesformer.datasets.loader.construct_loader` flattens them
    into the batch). The video's decode failures are counted on its first clip's meta only, so
    that a batch's sum counts replaced videos.

    ``videos``: the videos to read, with the split's sampling (e.g. given files read as
    test views); by default those of the split's files (:meth:`read_split`).
    """

    random_flip_allowed = True
    """Subclasses whose labels depend on left/right (SSv2) set this to False."""

    def __init__(self, cfg, split: str, videos: VideoList | None = None):
        if split not in SPLITS:
            raise ValueError(f"split is {split!r}; expected one of {', '.join(SPLITS)}")
        self.cfg = cfg
        self.split = split
        self.videos = videos if videos is not None else self.read_split()
        self.paths, self.labels = self.videos.paths, self.videos.labels
        self.num_videos = len(self.paths)
        self.views_per_video = views_per_video(cfg) if split == "test" else 1
        self.clips_per_video = cfg.DATA.TRAIN_CROP_NUM_TEMPORAL if split == "train" else 1
        self.clip_augment = build_clip_augment(cfg) if split == "train" else None
        self.keyframe_indices = KeyframeIndexCache()  # each loader worker fills its own copy
        self._reported_paths: set[str | None] = set()
        logger.info(
            "%s %s: %d videos, %d views each",
            type(self).__name__,
            split,
            self.num_videos,
            self.views_per_video,
        )
        if split != "train" and self.test_short_side() < cfg.DATA.TEST_CROP_SIZE:
            logger.warning(
                "%s %s: DATA.TEST_CROP_SIZE %d is larger than the short side %d that its test "
                "views scale frames to (Kinetics with TEST.NUM_SPATIAL_CROPS 1: "
                "DATA.TRAIN_JITTER_SCALES[0]); they are scaled to %d instead, so that the crop "
                "fits.",
                type(self).__name__,
                split,
                cfg.DATA.TEST_CROP_SIZE,
                self.test_short_side(),
                cfg.DATA.TEST_CROP_SIZE,
            )

    def read_split(self) -> VideoList:
        """The videos of ``self.split``, from the dataset's split files."""
        raise NotImplementedError

    def load_frames(self, video_idx: int, temporal_idx: int) -> np.ndarray:
        """Frames of temporal view ``temporal_idx`` of video ``video_idx`` (-1: random position).

        Returns:
            (NUM_FRAMES, H, W, 3) uint8 RGB.
        Raises:
            VideoReadError: the video (or one of its frames) cannot be read.
        """
        raise NotImplementedError

    def load_random_clips(self, video_idx: int, clip_count: int) -> np.ndarray:
        """Frames of ``clip_count`` training clips of video ``video_idx`` at independent random
        positions, read in one pass over the frames their spans cover (used for
        DATA.TRAIN_CROP_NUM_TEMPORAL > 1; one clip is ``load_frames(video_idx, -1)``).

        Returns:
            (clip_count, NUM_FRAMES, H, W, 3) uint8 RGB.
        Raises:
            VideoReadError: the video (or one of its frames) cannot be read.
        """
        raise NotImplementedError

    def test_short_side(self) -> int:
        """Short side the frames of a test view are scaled to before their TEST_CROP_SIZE crop:
        DATA.TEST_CROP_SIZE (the original's SSv2 test views; Kinetics overrides it). Should it be
        smaller than the crop, the frames are scaled to the crop's size instead (with a warning
        when the dataset is built)."""
        return self.cfg.DATA.TEST_CROP_SIZE

    def __len__(self) -> int:
        return self.num_videos * self.views_per_video

    def view_of(self, index: int) -> tuple[int, int, int]:
        """(video_idx, temporal_idx, spatial_idx) of item ``index``; -1 marks random positions."""
        video_idx, view = divmod(index, self.views_per_video)
        if self.split != "test":
            return video_idx, RANDOM_CLIP, RANDOM_CLIP
        crops = self.cfg.TEST.NUM_SPATIAL_CROPS
        return video_idx, view // crops, view % crops

    def read_to_end(self, video_idx: int) -> None:
        """Read every frame of a video, to the last one a clip can use (without building clips).

        Raises:
            VideoReadError: a frame cannot be read, or the video ends short of its length.
        """
        raise NotImplementedError

    def check_video(self, video_idx: int) -> None:
        """Prove that every clip of a video can be read, as tools/check_dataset.py does: every
        frame to the end (:meth:`read_to_end`), then the first and the last test view as clips
        (conversion, shape). Raises VideoReadError if the video fails either."""
        self.read_to_end(video_idx)
        last_view = self.cfg.TEST.NUM_ENSEMBLE_VIEWS - 1
        for temporal_idx in sorted({0, last_view}):
            self._load_checked(video_idx, temporal_idx)

    def __getitem__(self, index: int):
        video_idx, temporal_idx, spatial_idx = self.view_of(index)
        failures = 0
        while True:
            try:
                clips = self._load_checked(video_idx, temporal_idx, self.clips_per_video)
                break
            except VideoReadError as error:
                failures += 1
                self._report_once(error)
                if self.split == "test":
                    return self._skipped_test_item(index, error)
                if failures > self.cfg.DATA.NUM_RETRIES:
                    raise TooManyUnreadableVideosError(
                        f"{failures} videos in a row could not be read (DATA.NUM_RETRIES is "
                        f"{self.cfg.DATA.NUM_RETRIES}); last: {error}. "
                        "Run tools/check_dataset.py to list all unreadable videos."
                    ) from error
                video_idx = int(np.random.randint(self.num_videos))
        meta = self._meta(video_idx, temporal_idx, spatial_idx, failures)
        item_index = video_idx * self.views_per_video + index % self.views_per_video
        label = self._item_label(video_idx)
        if self.clips_per_video == 1:
            return self._transform(clips[0], spatial_idx), label, item_index, meta
        count = self.clips_per_video
        return (
            [self._transform(frames, spatial_idx) for frames in clips],
            [label] * count,
            [item_index] * count,
            [meta] + [dict(meta, num_decode_failures=0) for _ in range(count - 1)],
        )

    def _load_checked(self, video_idx: int, temporal_idx: int, clip_count: int = 1) -> np.ndarray:
        """(clip_count, NUM_FRAMES, H, W, 3): the view ``temporal_idx`` (one clip), or
        ``clip_count`` random clips; VideoReadError when the frames are not such clips."""
        if clip_count == 1:
            clips = self.load_frames(video_idx, temporal_idx)[None]
        else:
            clips = self.load_random_clips(video_idx, clip_count)
        expected = (clip_count, self.cfg.DATA.NUM_FRAMES)
        if clips.ndim != 5 or clips.shape[:2] != expected or clips.shape[-1] != 3:
            shape = clips.shape[1:] if clip_count == 1 else clips.shape
            raise VideoReadError(self.paths[video_idx], f"decoded frames have shape {shape}")
        return clips

    def _item_label(self, video_idx: int) -> int | torch.Tensor:
        """The label of video ``video_idx`` as an item gives it (see the class docstring)."""
        label = self.labels[video_idx]
        if isinstance(label, int) and not self.cfg.DATA.MULTI_LABEL:
            return label
        return multi_hot(
            label if isinstance(label, tuple) else (label,), self.cfg.MODEL.NUM_CLASSES
        )

    def _skipped_label(self) -> int | torch.Tensor:
        if not self.cfg.DATA.MULTI_LABEL:
            return -1
        return torch.full((self.cfg.MODEL.NUM_CLASSES,), -1.0)

    def _transform(self, frames: np.ndarray, spatial_idx: int) -> torch.Tensor:
        data = self.cfg.DATA
        if self.split != "test":
            return transform.train_view(
                frames,
                jitter_scales=tuple(data.TRAIN_JITTER_SCALES),
                crop_size=data.TRAIN_CROP_SIZE,
                inverse_uniform=data.INV_UNIFORM_SAMPLE,
                flip=data.RANDOM_FLIP and self.random_flip_allowed,
                mean=data.MEAN,
                std=data.STD,
                reverse_channels=data.REVERSE_INPUT_CHANNEL,
                augment=self.clip_augment,
            )
        crop = transform.CENTER_CROP if self.cfg.TEST.NUM_SPATIAL_CROPS == 1 else spatial_idx
        return transform.test_view(
            frames,
            data.TEST_CROP_SIZE,
            crop,
            data.MEAN,
            data.STD,
            data.REVERSE_INPUT_CHANNEL,
            short_side=max(self.test_short_side(), data.TEST_CROP_SIZE),
        )

    def _skipped_test_item(self, index: int, error: VideoReadError):
        video_idx, temporal_idx, spatial_idx = self.view_of(index)
        if not self.cfg.DATA.SKIP_BAD_TEST_VIDEOS:
            raise VideoReadError(
                error.path or self.paths[video_idx],
                error.reason,
                advice="test videos are never replaced; fix or remove it, or set "
                "DATA.SKIP_BAD_TEST_VIDEOS True to skip and count it",
            ) from error
        size = self.cfg.DATA.TEST_CROP_SIZE
        frames = torch.zeros(3, self.cfg.DATA.NUM_FRAMES, size, size)
        meta = self._meta(video_idx, temporal_idx, spatial_idx, failures=1)
        return frames, self._skipped_label(), index, meta

    def _report_once(self, error: VideoReadError) -> None:
        if error.path in self._reported_paths:
            return
        self._reported_paths.add(error.path)
        if self.split == "test":
            logger.warning("Unreadable test video %s: %s", error.path, error.reason)
        else:
            logger.warning(
                "Unreadable video %s: %s; replaced by another sample", error.path, error.reason
            )

    @staticmethod
    def _meta(video_idx: int, temporal_idx: int, spatial_idx: int, failures: int) -> dict:
        return {
            "video_idx": video_idx,
            "temporal_idx": temporal_idx,
            "spatial_idx": spatial_idx,
            "num_decode_failures": failures,
        }
