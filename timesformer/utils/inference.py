"""Whole-video inference exactly as the test path sees a video.

A video is decoded, sampled and preprocessed into its test views (TEST.NUM_ENSEMBLE_VIEWS
temporal clips x TEST.NUM_SPATIAL_CROPS crops) by the dataset class of
TEST.DATASET, as ``tools/test_net.py`` does; the model runs on every view and
the views' outputs are combined per video (TEST.ENSEMBLE_METHOD: the mean of
the softmax probabilities for "sum", their maximum for "max").
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from fvcore.common.config import CfgNode
from torch.utils.data import DataLoader, Dataset

from timesformer.datasets.build import DATASET_REGISTRY, build_dataset, registered_dataset_names
from timesformer.datasets.clip_dataset import ClipDataset
from timesformer.datasets.video_container import VideoReadError
from timesformer.models.build import MODEL_REGISTRY
from timesformer.utils.checkpoint import (
    CheckpointError,
    find_vision_transformer,
    load_model_weights,
    read_state_dict,
    to_model_names,
)
from timesformer.utils.precision import autocast_context


def dataset_class(name: str) -> type:
    """The registered dataset class of ``name`` (case-insensitive)."""
    by_lower_name = {registered.lower(): dataset for registered, dataset in DATASET_REGISTRY}
    if name.lower() not in by_lower_name:
        raise KeyError(f"TEST.DATASET is {name!r}; expected one of {', '.join(registered_dataset_names())}.")
    return by_lower_name[name.lower()]


class TestViewDataset(ClipDataset):
    """The test views of given videos, sampled as TEST.DATASET samples its test split.

    Items are those of :class:`ClipDataset` in the test split: item ``i`` is view
    ``i % num_clips`` of video ``i // num_clips``. Frames are read by the
    ``load_frames`` of TEST.DATASET's class (dense clips for Kinetics/HowTo100M,
    segments for SSv2), so a video file gets exactly the views a test run gives it.

    Args:
        paths: video files (or, with ``frame_paths``, SSv2 frame folders).
        labels: one per video; -1 (unknown) by default.
        frame_paths: SSv2's JPEG frame lists, one per video; None decodes the video files.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, cfg: CfgNode, paths: list[str], labels: list[int] | None = None, frame_paths=None):
        self._videos = (list(paths), list(labels) if labels is not None else [-1] * len(paths))
        self.frame_paths = frame_paths
        self._sampling_class = dataset_class(cfg.TEST.DATASET)
        super().__init__(cfg, "test")

    def read_split(self) -> tuple[list[str], list[int]]:
        return self._videos

    def load_frames(self, video_idx: int, temporal_idx: int):
        """(NUM_FRAMES, H, W, 3) uint8 frames of one test view, read as TEST.DATASET reads them."""
        return self._sampling_class.load_frames(self, video_idx, temporal_idx)


def views_of_split(cfg: CfgNode, split: str) -> TestViewDataset:
    """Test views of the videos of TEST.DATASET's ``split`` ("train", "val" or "test"), with their labels."""
    source = build_dataset(cfg.TEST.DATASET, cfg, split)
    return TestViewDataset(cfg, source.paths, source.labels, getattr(source, "frame_paths", None))


@dataclass
class VideoViews:
    """All test views of one video, or why it could not be read.

    ``clips``: (V, 3, T, H, W) float, V = num_clips, temporal-major (view ``t * crops + s``).
    """

    video_idx: int
    clips: torch.Tensor | None
    error: str | None = None


class _ViewsByVideo(Dataset):
    """Item ``i``: the :class:`VideoViews` of video ``video_indices[i]`` of ``dataset``."""

    def __init__(self, dataset: ClipDataset, video_indices: list[int]):
        if dataset.cfg.DATA.SKIP_BAD_TEST_VIDEOS:
            raise ValueError(
                "Whole-video inference reports unreadable videos itself; set DATA.SKIP_BAD_TEST_VIDEOS False."
            )
        self.dataset = dataset
        self.video_indices = video_indices

    def __len__(self) -> int:
        return len(self.video_indices)

    def __getitem__(self, position: int) -> VideoViews:
        video_idx = self.video_indices[position]
        first = video_idx * self.dataset.num_clips
        try:
            clips = torch.stack([self.dataset[first + view][0] for view in range(self.dataset.num_clips)])
        except VideoReadError as err:
            return VideoViews(video_idx, None, str(err))
        return VideoViews(video_idx, clips)


def iter_video_views(dataset: ClipDataset, video_indices: list[int], num_workers: int = 0) -> Iterator[VideoViews]:
    """The views of each video of ``video_indices``, in order, decoded by up to ``num_workers`` loader workers."""
    loader = DataLoader(
        _ViewsByVideo(dataset, list(video_indices)),
        batch_size=None,
        num_workers=min(num_workers, len(video_indices)),
        collate_fn=_unchanged,
    )
    yield from loader


def _unchanged(item: VideoViews) -> VideoViews:
    return item


@torch.inference_mode()
def run_on_views(fn: Callable, clips: torch.Tensor, cfg: CfgNode, device: torch.device) -> torch.Tensor:
    """``fn`` over views ``clips`` (V, 3, T, H, W) in batches of TEST.BATCH_SIZE -> (V, ...) float on the CPU."""
    outputs = []
    for batch in clips.split(max(cfg.TEST.BATCH_SIZE, 1)):
        with autocast_context(cfg):
            outputs.append(fn(batch.to(device)).float().cpu())
    return torch.cat(outputs)


def combine_views(view_scores: torch.Tensor, ensemble_method: str) -> torch.Tensor:
    """(V, K) per-view probabilities -> (K,): their mean ("sum", as the test meter ranks) or maximum ("max")."""
    if ensemble_method == "max":
        return view_scores.max(dim=0).values
    return view_scores.mean(dim=0)


def device_of(cfg: CfgNode) -> torch.device:
    """The first GPU when NUM_GPUS > 0, else the CPU."""
    return torch.device("cuda", 0) if cfg.NUM_GPUS > 0 else torch.device("cpu")


def load_inference_model(cfg: CfgNode, checkpoint: str) -> torch.nn.Module:
    """MODEL.MODEL_NAME with the weights of ``checkpoint``, in eval mode on :func:`device_of`.

    Raises:
        CheckpointError: no checkpoint given, missing or unreadable file, a head
            for another number of classes than MODEL.NUM_CLASSES, or weights that
            do not fit the model.
    """
    if not checkpoint:
        raise CheckpointError("No checkpoint: pass --checkpoint or set TEST.CHECKPOINT_FILE_PATH.")
    model = MODEL_REGISTRY.get(cfg.MODEL.MODEL_NAME)(cfg)
    _check_num_classes(checkpoint, find_vision_transformer(model).num_classes)
    load_model_weights(model, checkpoint)
    return model.eval().to(device_of(cfg))


def _check_num_classes(checkpoint: str, num_classes: int) -> None:
    head = to_model_names(read_state_dict(checkpoint)).get("head.weight")
    if head is not None and head.shape[0] != num_classes:
        raise CheckpointError(
            f"{checkpoint} classifies {head.shape[0]} classes but MODEL.NUM_CLASSES is {num_classes}; "
            f"pass MODEL.NUM_CLASSES {head.shape[0]} (or the config the checkpoint was trained with)."
        )
