"""Whole-video inference for the single-process tools, exactly as the test loop sees a video.

A video is decoded, sampled and preprocessed into its test views (TEST.NUM_ENSEMBLE_VIEWS
temporal clips x TEST.NUM_SPATIAL_CROPS crops) by the dataset class of TEST.DATASET, as
:func:`timesformer.engine.tester.test` does; the model runs on every view, and the tools
combine the views' logits per video exactly as the test meter does
(:func:`timesformer.utils.meters.ensemble_views`).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from fvcore.common.config import CfgNode
from torch.utils.data import DataLoader, Dataset

from timesformer.checkpoint.files import Checkpoint, CheckpointError
from timesformer.checkpoint.formats import load_model_weights, to_model_names
from timesformer.checkpoint.training_state import read_weights_to_evaluate
from timesformer.datasets.build import build_dataset, dataset_class
from timesformer.datasets.clip_dataset import ClipDataset, VideoList
from timesformer.datasets.video_container import VideoReadError
from timesformer.models.build import build_bare_model
from timesformer.models.vit import find_vision_transformer
from timesformer.utils.distributed import process_device
from timesformer.utils.meters import ensemble_views
from timesformer.utils.precision import autocast_context


def views_of_files(cfg: CfgNode, paths: list[str]) -> ClipDataset:
    """The test views of video files, sampled as TEST.DATASET samples its test split (labels -1).

    Item ``i`` is view ``i % views_per_video`` of video ``i // views_per_video`` (see
    :class:`ClipDataset`).
    """
    videos = VideoList(list(paths), [-1] * len(paths))
    return dataset_class(cfg.TEST.DATASET)(cfg, "test", videos)


def views_of_split(cfg: CfgNode, split: str) -> ClipDataset:
    """The test views of the videos of TEST.DATASET's ``split`` ("train", "val" or "test"), with
    their labels."""
    source = build_dataset(cfg.TEST.DATASET, cfg, split)
    return dataset_class(cfg.TEST.DATASET)(cfg, "test", source.videos)


@dataclass
class VideoViews:
    """All test views of one video, or why it could not be read.

    ``clips``: (V, 3, T, H, W) float, V = views_per_video, temporal-major (view
    ``t * crops + s``); None when the video cannot be read, ``error`` saying why.
    """

    video_idx: int
    clips: torch.Tensor | None
    error: str = ""


class _ViewsByVideo(Dataset):
    """Item ``i``: the :class:`VideoViews` of video ``video_indices[i]`` of ``dataset``."""

    def __init__(self, dataset: ClipDataset, video_indices: list[int]):
        if dataset.cfg.DATA.SKIP_BAD_TEST_VIDEOS:
            raise ValueError(
                "Whole-video inference reports unreadable videos itself; "
                "set DATA.SKIP_BAD_TEST_VIDEOS False."
            )
        self.dataset = dataset
        self.video_indices = video_indices

    def __len__(self) -> int:
        return len(self.video_indices)

    def __getitem__(self, position: int) -> VideoViews:
        video_idx = self.video_indices[position]
        first = video_idx * self.dataset.views_per_video
        try:
            clips = torch.stack(
                [self.dataset[first + view][0] for view in range(self.dataset.views_per_video)]
            )
        except VideoReadError as err:  # reported by the tool, so without the test loop's advice
            return VideoViews(video_idx, None, f"{err.path}: {err.reason}")
        return VideoViews(video_idx, clips)


def iter_video_views(
    dataset: ClipDataset, video_indices: list[int], num_workers: int = 0
) -> Iterator[VideoViews]:
    """The views of each video of ``video_indices``, in order, decoded by up to ``num_workers``
    loader workers."""
    loader = DataLoader(
        _ViewsByVideo(dataset, list(video_indices)),
        batch_size=None,
        num_workers=min(num_workers, len(video_indices)),
    )  # batch_size None: each item as it is (torch's default_convert leaves a dataclass alone)
    yield from loader


@torch.inference_mode()
def run_on_views(fn: Callable, clips: torch.Tensor, cfg: CfgNode) -> torch.Tensor:
    """``fn`` over views ``clips`` (V, 3, T, H, W) in batches of TEST.BATCH_SIZE, on this process's
    device -> (V, ...) float on the CPU."""
    device = process_device(cfg)
    outputs = []
    for batch in clips.split(max(cfg.TEST.BATCH_SIZE, 1)):
        with autocast_context(cfg):
            outputs.append(fn(batch.to(device)).float().cpu())
    return torch.cat(outputs)


def load_inference_model(cfg: CfgNode, checkpoint: str) -> torch.nn.Module:
    """MODEL.MODEL_NAME with the weights of ``checkpoint`` (their EMA with MODEL_EMA.ENABLE, when
    it holds one), in eval mode on this process's device
    (:func:`~timesformer.utils.distributed.process_device`: the first GPU, or the CPU).

    Raises:
        CheckpointError: no checkpoint given, missing or unreadable file, a head
            for another number of classes than MODEL.NUM_CLASSES, or weights that
            do not fit the model.
    """
    if not checkpoint:
        raise CheckpointError("No checkpoint: pass --checkpoint or set TEST.CHECKPOINT_FILE_PATH.")
    weights = read_weights_to_evaluate(checkpoint, cfg.MODEL_EMA.ENABLE)
    model = build_bare_model(cfg)
    _check_num_classes(weights, find_vision_transformer(model).num_classes)
    load_model_weights(model, weights)
    return model.eval().to(process_device(cfg))


def _check_num_classes(checkpoint: Checkpoint, num_classes: int) -> None:
    head = to_model_names(checkpoint.model_state).get("head.weight")
    if head is not None and head.shape[0] != num_classes:
        raise CheckpointError(
            f"{checkpoint.path} classifies {head.shape[0]} classes but MODEL.NUM_CLASSES is "
            f"{num_classes}; pass MODEL.NUM_CLASSES {head.shape[0]} "
            "(or the config the checkpoint was trained with)."
        )


def top_k(scores: torch.Tensor, k: int, class_names: list[str] | None) -> list[dict]:
    """scores: (K,) -> the ``k`` best ``{"label", "name", "score"}``, scores descending."""
    values, labels = scores.topk(min(k, scores.numel()))
    return [
        {
            "label": int(label),
            "name": class_names[label] if class_names else None,
            "score": float(value),
        }
        for value, label in zip(values.tolist(), labels.tolist(), strict=True)
    ]


def shown_scores(view_logits: torch.Tensor, cfg: CfgNode) -> torch.Tensor:
    """(V, K) logits of the views of one video -> (K,) scores shown, ordered as the test loop's
    aggregate (:func:`~timesformer.utils.meters.ensemble_views`): its softmax, or with
    TEST.ENSEMBLE_SOFTMAX the aggregated probabilities (their mean for "sum"); with
    DATA.MULTI_LABEL, each class's aggregated sigmoid probability (their mean for "sum")."""
    test, multi_label = cfg.TEST, cfg.DATA.MULTI_LABEL
    aggregate = ensemble_views(
        view_logits, test.ENSEMBLE_METHOD, test.ENSEMBLE_SOFTMAX, multi_label
    )
    if not (test.ENSEMBLE_SOFTMAX or multi_label):
        return aggregate.softmax(dim=0)
    return aggregate / len(view_logits) if test.ENSEMBLE_METHOD == "sum" else aggregate
