"""Batch sizes derived from a config: per process, per iteration over the job, accumulation."""

import pytest

from helpers import tiny_cfg
from timesformer.config import ConfigError
from timesformer.config.batch import (
    accumulation_steps,
    iteration_batch_size,
    optimizer_step_batch_size,
    process_batch_size,
    processes_per_machine,
    views_per_video,
)


def test_the_original_recipe_on_one_and_on_four_machines():
    # The Kinetics recipe: 8 clips per machine, accumulated to 64 per optimizer step.
    one = tiny_cfg("", "", "TRAIN.BATCH_SIZE", "8", "GLOBAL_BATCH_SIZE", "64")
    assert (iteration_batch_size(one), accumulation_steps(one), optimizer_step_batch_size(one)) == (
        8,
        8,
        64,
    )
    four = tiny_cfg("", "", "TRAIN.BATCH_SIZE", "8", "GLOBAL_BATCH_SIZE", "64", "NUM_SHARDS", "4")
    assert (
        iteration_batch_size(four),
        accumulation_steps(four),
        optimizer_step_batch_size(four),
    ) == (32, 2, 64)


def test_no_accumulation_when_an_iteration_already_holds_the_global_batch():
    cfg = tiny_cfg("", "", "TRAIN.BATCH_SIZE", "16", "GLOBAL_BATCH_SIZE", "8")
    assert accumulation_steps(cfg) == 1 and optimizer_step_batch_size(cfg) == 16


@pytest.mark.parametrize("split, expected", [("train", 4), ("val", 4), ("test", 3)])
def test_a_machines_batch_is_shared_by_its_processes(split, expected):
    cfg = tiny_cfg("", "", "NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "8", "TEST.BATCH_SIZE", "6")
    assert processes_per_machine(cfg) == 2
    assert process_batch_size(cfg, split) == expected


def test_gpu_runs_have_one_process_per_gpu():
    cfg = tiny_cfg("", "")
    cfg.NUM_GPUS = 8
    assert processes_per_machine(cfg) == 8


def test_views_per_video_are_temporal_clips_times_spatial_crops():
    cfg = tiny_cfg("", "", "TEST.NUM_ENSEMBLE_VIEWS", "10", "TEST.NUM_SPATIAL_CROPS", "3")
    assert views_per_video(cfg) == 30


def test_several_clips_per_video_count_in_iterations_and_accumulation():
    # 8 videos per machine x 2 clips each, on 2 machines: 32 clips per iteration, 2 iterations
    # accumulated to step on 64 clips; a process still loads its machine's share of videos.
    cfg = tiny_cfg(
        "",
        "",
        *("TRAIN.BATCH_SIZE", "8", "GLOBAL_BATCH_SIZE", "64", "NUM_SHARDS", "2"),
        *("NUM_PROCS", "2", "DATA.TRAIN_CROP_NUM_TEMPORAL", "2"),
    )
    assert (iteration_batch_size(cfg), accumulation_steps(cfg), optimizer_step_batch_size(cfg)) == (
        32,
        2,
        64,
    )
    assert process_batch_size(cfg, "train") == 4


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ("DATA.TRAIN_CROP_NUM_TEMPORAL", "0"),
            r"DATA\.TRAIN_CROP_NUM_TEMPORAL is 0; expected 1 or more",
        ),
        (
            ("DATA.TRAIN_CROP_NUM_TEMPORAL", "3", "GLOBAL_BATCH_SIZE", "16"),
            r"GLOBAL_BATCH_SIZE \(16\) must be a multiple of NUM_SHARDS x TRAIN\.BATCH_SIZE x "
            r"DATA\.TRAIN_CROP_NUM_TEMPORAL \(1 x 4 x 3 = 12\)",
        ),
    ],
)
def test_impossible_clips_per_video_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        tiny_cfg("", "", *overrides)
