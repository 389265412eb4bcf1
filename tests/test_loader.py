"""build_loader and shuffle_dataset (loader.py)."""

import pytest
import torch
from torch.utils.data import DistributedSampler

import timesformer.datasets.loader as loader_module
from helpers import TINY_VIDEO_DATA, tiny_cfg
from timesformer.config import ConfigError
from timesformer.datasets import build_loader, shuffle_dataset


def test_train_batches_shapes_types_and_meta(kinetics_dir):
    loader = build_loader(tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), "train")
    batches = list(loader)
    assert len(batches) == 1  # 3 videos, batch 2, drop_last
    frames, labels, index, meta = batches[0]
    assert frames.shape == (2, 3, 4, 32, 32) and frames.dtype == torch.float32
    assert labels.dtype == torch.int64 and index.dtype == torch.int64 and labels.shape == (2,)
    assert set(meta) == {"video_idx", "temporal_idx", "spatial_idx", "num_decode_failures"}
    assert all(value.shape == (2,) for value in meta.values())
    assert not loader.pin_memory and loader.num_workers == 0


def test_test_loader_keeps_order_and_all_views(kinetics_dir):
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
    cfg.NUM_PROCS = 3  # per-process batch = TEST.BATCH_SIZE // 3 = 1
    cfg.TEST.BATCH_SIZE = 3
    loader = build_loader(cfg, "test")
    index = torch.cat([batch[2] for batch in loader])
    assert loader.batch_size == 1 and index.tolist() == list(range(18))


def test_distributed_sampler_splits_and_reshuffles_per_epoch(kinetics_dir, monkeypatch):
    monkeypatch.setattr(loader_module, "get_world_size", lambda: 2)
    shares = []
    for rank in (0, 1):
        monkeypatch.setattr(loader_module, "get_rank", lambda rank=rank: rank)
        cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
        cfg.TRAIN.BATCH_SIZE = 1
        loader = build_loader(cfg, "train")
        assert isinstance(loader.sampler, DistributedSampler) and loader.sampler.drop_last
        shares.append(list(loader.sampler))
    assert len(shares[0]) == len(shares[1]) == 1 and shares[0] != shares[1]
    orders = set()
    for epoch in range(8):
        shuffle_dataset(loader, epoch)
        orders.add(tuple(loader.sampler))
    assert len(orders) > 1
    test_loader = build_loader(tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA), "test")
    assert not test_loader.sampler.shuffle and list(test_loader.sampler) == list(range(1, 18, 2))


def epoch_frames(loader, epochs=2):
    """Per epoch, the frames of each item index (train augmentation is random)."""
    result = []
    for epoch in range(epochs):
        shuffle_dataset(loader, epoch)
        result.append(
            {
                int(i): f
                for frames, _, index, _ in loader
                for i, f in zip(index, frames, strict=True)
            }
        )
    return result


def test_workers_are_seeded_reproducibly_and_differ_per_epoch(kinetics_dir):
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
    cfg.DATA_LOADER.NUM_WORKERS = 2
    cfg.TRAIN.BATCH_SIZE = 1
    first = build_loader(cfg, "train")
    assert first.persistent_workers
    run_a = epoch_frames(first)
    run_b = epoch_frames(build_loader(cfg, "train"))
    for epoch in range(2):
        assert run_a[epoch].keys() == run_b[epoch].keys() == {0, 1, 2}
        assert all(torch.equal(run_a[epoch][i], run_b[epoch][i]) for i in range(3))
    assert not all(torch.equal(run_a[0][i], run_a[1][i]) for i in range(3))
    cfg.RNG_SEED = 2
    other_seed = epoch_frames(build_loader(cfg, "train"), epochs=1)
    assert not all(torch.equal(run_a[0][i], other_seed[0][i]) for i in range(3))


def test_batch_larger_than_the_training_set_is_named_before_training(kinetics_dir):
    """drop_last used to leave no batch at all: every epoch logged loss 0 and saved an untrained
    model."""
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA, "TRAIN.BATCH_SIZE", "4")
    with pytest.raises(
        ConfigError,
        match=r"TRAIN\.BATCH_SIZE is 4 \(4 per process\), but the train split of kinetics has 3 "
        r"video\(s\) for 1 process\(es\).*use TRAIN\.BATCH_SIZE 3 or less",
    ):
        build_loader(cfg, "train")
    assert len(build_loader(cfg, "val")) == 1  # validation keeps its last, partial batch


@pytest.mark.parametrize("workers", [0, 1])
def test_several_clips_per_video_are_flattened_into_the_batch(kinetics_dir, workers):
    """DATA.TRAIN_CROP_NUM_TEMPORAL 3, 2 videos per batch: 6 clips, a video's clips together with
    its label, index and meta repeated (PySlowFast's multiple_samples_collate)."""
    cfg = tiny_cfg(
        kinetics_dir,
        "",
        *TINY_VIDEO_DATA,
        "DATA.TRAIN_CROP_NUM_TEMPORAL",
        "3",
        "DATA_LOADER.NUM_WORKERS",
        str(workers),
    )
    loader = build_loader(cfg, "train")
    frames, labels, index, meta = next(iter(loader))
    assert frames.shape == (6, 3, 4, 32, 32) and frames.dtype == torch.float32
    videos = index[::3]
    assert labels.tolist() == index.tolist() == videos.repeat_interleave(3).tolist()
    assert meta["video_idx"].tolist() == index.tolist()
    assert meta["num_decode_failures"].tolist() == [0] * 6
    assert not torch.equal(frames[0], frames[1])  # each clip its own position and augmentation
    assert len(loader) == 1
    val_frames, val_labels, _, _ = next(iter(build_loader(cfg, "val")))
    assert val_frames.shape == (2, 3, 4, 32, 32) and val_labels.tolist() == [0, 1]


def test_multiple_clips_collate_counts_a_videos_failures_once():
    meta = {"video_idx": 4, "temporal_idx": -1, "spatial_idx": -1, "num_decode_failures": 2}
    item = (
        [torch.zeros(3, 2, 8, 8), torch.ones(3, 2, 8, 8)],
        [1, 1],
        [4, 4],
        [meta, dict(meta, num_decode_failures=0)],
    )
    frames, labels, index, metas = loader_module.multiple_clips_collate([item, item])
    assert frames.shape == (4, 3, 2, 8, 8) and frames[:, 0, 0, 0, 0].tolist() == [0, 1, 0, 1]
    assert labels.tolist() == [1, 1, 1, 1] and index.tolist() == [4, 4, 4, 4]
    assert int(metas["num_decode_failures"].sum()) == 4  # 2 videos, 2 failures each
