"""``build_loader(cfg, split)`` and ``shuffle_dataset(loader, epoch)``; ``construct_loader``,
the original's name of ``build_loader``, still works, with a ``DeprecationWarning``.

Batches are ``(frames, labels, index, meta)``: frames (B, 3, T, H, W) float,
labels (B,) int64, index (B,) int64, meta a dict of (B,) int64 tensors
(video_idx, temporal_idx, spatial_idx, num_decode_failures). In training with
DATA.TRAIN_CROP_NUM_TEMPORAL K > 1, B is the process's batch of videos times K: the K clips of
each video follow one another, with its label, index and meta repeated.
"""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, default_collate

from timesformer.config.batch import process_batch_size, processes_per_machine
from timesformer.config.checks import ConfigError
from timesformer.datasets.build import build_dataset
from timesformer.datasets.clip_dataset import ClipDataset
from timesformer.utils.deprecation import renamed_function
from timesformer.utils.distributed import get_rank, get_world_size


def _seed_worker(worker_id: int) -> None:
    """Seed NumPy and Python in a loader worker from the seed torch gave it.

    torch derives each worker's seed from the loader's generator (seeded with
    RNG_SEED and the rank) plus the worker id, so workers augment differently
    and reproducibly; persistent workers keep their generators, so epochs differ.
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def multiple_clips_collate(items: list[tuple]) -> tuple:
    """Collate items that each hold several clips of one video as lists (``([frames] * K,
    [label] * K, [index] * K, [meta] * K)``, see :class:`~timesformer.datasets.clip_dataset.
    ClipDataset`) into one batch of all their clips, a video's clips one after another:
    PySlowFast's ``multiple_samples_collate``.

    Returns:
        ``(frames, labels, index, meta)`` as :func:`torch.utils.data.default_collate` makes them
        from the flattened clips: frames (sum of K, 3, T, H, W), labels and index (sum of K,).
    """
    flattened = [clip for item in items for clip in zip(*item, strict=True)]
    return default_collate(flattened)


def _loader_seed(cfg, epoch: int = 0) -> int:
    return cfg.RNG_SEED + 1_000_003 * get_rank() + 7_919 * epoch


def build_loader(cfg, split: str) -> DataLoader:
    """The DataLoader of ``split`` ("train", "val" or "test") for this process.

    Dataset TRAIN.DATASET (train, val) or TEST.DATASET (test); batch size
    TRAIN/TEST.BATCH_SIZE divided by the processes per machine (in training, videos: with
    DATA.TRAIN_CROP_NUM_TEMPORAL K > 1, a batch holds K clips of each,
    :func:`multiple_clips_collate`). Train shuffles and drops the last incomplete batch; with
    several processes a DistributedSampler gives each its share.
    """
    is_train = split == "train"
    dataset_name = cfg.TEST.DATASET if split == "test" else cfg.TRAIN.DATASET
    dataset = build_dataset(dataset_name, cfg, split)
    sampler: DistributedSampler | None = None
    if get_world_size() > 1:
        sampler = DistributedSampler(
            dataset,
            num_replicas=get_world_size(),
            rank=get_rank(),
            shuffle=is_train,
            drop_last=is_train,
            seed=cfg.RNG_SEED,
        )
    if is_train:
        _check_has_a_batch(cfg, dataset, dataset_name)
    num_workers = cfg.DATA_LOADER.NUM_WORKERS
    several_clips = cfg.DATA.TRAIN_CROP_NUM_TEMPORAL > 1
    return DataLoader(
        dataset,
        batch_size=process_batch_size(cfg, split),
        shuffle=is_train and sampler is None,
        sampler=sampler,
        drop_last=is_train,
        num_workers=num_workers,
        pin_memory=cfg.NUM_GPUS > 0 and cfg.DATA_LOADER.PIN_MEMORY,
        persistent_workers=num_workers > 0,
        worker_init_fn=_seed_worker,
        generator=torch.Generator().manual_seed(_loader_seed(cfg)),
        collate_fn=multiple_clips_collate if is_train and several_clips else None,
    )


construct_loader = renamed_function(build_loader, "construct_loader")


def _check_has_a_batch(cfg, dataset, dataset_name: str) -> None:
    """Raise when the training loader, which drops incomplete batches, would have no batch."""
    world_size, batch = get_world_size(), process_batch_size(cfg, "train")
    videos_per_process = len(dataset) // world_size
    if videos_per_process >= batch:
        return
    largest = videos_per_process * processes_per_machine(cfg)
    advice = (
        f"use TRAIN.BATCH_SIZE {largest} or less, or add videos"
        if largest
        else "use fewer processes, or add videos"
    )
    raise ConfigError(
        f"TRAIN.BATCH_SIZE is {cfg.TRAIN.BATCH_SIZE} ({batch} per process), but the train split of "
        f"{dataset_name} has {len(dataset)} video(s) for {world_size} process(es), "
        f"{videos_per_process} each: not one complete batch to train on; {advice}."
    )


def shuffle_dataset(loader: DataLoader, epoch: int) -> None:
    """Make the shuffling order of ``epoch`` a function of (RNG_SEED, rank, epoch).

    Call before iterating each epoch (so that resumed runs see the same order).
    """
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(epoch)
    elif loader.generator is not None:
        loader.generator.manual_seed(_loader_seed(loader_dataset(loader).cfg, epoch))


def loader_dataset(loader: DataLoader) -> ClipDataset:
    """The dataset that a loader of :func:`build_loader` reads."""
    dataset = loader.dataset
    assert isinstance(dataset, ClipDataset)  # every registered dataset is one
    return dataset
