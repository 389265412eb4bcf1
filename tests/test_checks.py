"""Checks of a merged config: impossible values and combinations fail naming the key, devices,
inferred values, registered names, steps after MAX_EPOCH."""

import ast
import glob
import logging
import os
import subprocess
import sys

import pytest

from helpers import REPO_ROOT
from timesformer.config import ConfigError, assert_and_infer_cfg, get_cfg, memory
from timesformer.config.merge import merge_overrides, merge_yaml_file
from timesformer.datasets import mixup, transform
from timesformer.models.losses import LOSSES
from timesformer.models.optimizer import OPTIMIZERS
from timesformer.utils.lr_policy import LR_POLICIES, get_lr_at_epoch
from timesformer.utils.meters import ENSEMBLE_METHODS
from timesformer.utils.precision import DTYPES


def _checked(*overrides, check_devices=False):
    return assert_and_infer_cfg(
        merge_overrides(get_cfg(), list(overrides)), check_devices=check_devices
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["NUM_GPUS", "0", "NUM_PROCS", "3", "TRAIN.BATCH_SIZE", "8"],
            r"TRAIN\.BATCH_SIZE \(8\).*NUM_PROCS = 3",
        ),
        (["NUM_GPUS", "4", "TEST.BATCH_SIZE", "6"], r"TEST\.BATCH_SIZE \(6\).*NUM_GPUS = 4"),
        (
            ["TIMESFORMER.ATTENTION_TYPE", "spacetime"],
            r"TIMESFORMER\.ATTENTION_TYPE is 'spacetime'.*divided_space_time",
        ),
        (["TIMESFORMER.NUM_HEADS", "5"], r"EMBED_DIM \(768\).*NUM_HEADS \(5\)"),
        (["DATA.TRAIN_CROP_SIZE", "200"], r"DATA\.TRAIN_CROP_SIZE \(200\).*PATCH_SIZE \(16\)"),
        (["DATA.TEST_CROP_SIZE", "250"], r"DATA\.TEST_CROP_SIZE \(250\)"),
        (["SOLVER.LR_POLICY", "linear"], r"SOLVER\.LR_POLICY is 'linear'"),
        (["SOLVER.OPTIMIZING_METHOD", "lion"], r"SOLVER\.OPTIMIZING_METHOD"),
        (
            [
                "SOLVER.LR_POLICY",
                "steps_with_relative_lrs",
                "SOLVER.STEPS",
                "[0, 5]",
                "SOLVER.LRS",
                "[1]",
            ],
            r"SOLVER\.STEPS .* SOLVER\.LRS",
        ),
        (["NUM_GPUS", "1", "NUM_PROCS", "2"], r"NUM_PROCS is 2 with NUM_GPUS 1"),
        (["NUM_SHARDS", "2", "SHARD_ID", "2"], r"SHARD_ID is 2"),
        (["TEST.NUM_SPATIAL_CROPS", "2"], r"TEST\.NUM_SPATIAL_CROPS is 2"),
        (["GLOBAL_BATCH_SIZE", "100"], r"GLOBAL_BATCH_SIZE \(100\)"),
        (
            [
                "NUM_GPUS",
                "0",
                "TRAIN.MIXED_PRECISION",
                "True",
                "TRAIN.MIXED_PRECISION_DTYPE",
                "fp16",
            ],
            r"fp16.*GPU",
        ),
        (["TIMESFORMER.DROP_PATH_RATE", "1.5"], r"TIMESFORMER\.DROP_PATH_RATE is 1\.5"),
        (["TIMESFORMER.INIT_STD", "0"], r"TIMESFORMER\.INIT_STD is 0\.0; expected > 0"),
        (["TIMESFORMER.TIME_EMBED_INIT_STD", "-1"], r"TIMESFORMER\.TIME_EMBED_INIT_STD is -1\.0"),
        (["MODEL.HEAD_DROPOUT_RATE", "1.0"], r"MODEL\.HEAD_DROPOUT_RATE is 1\.0"),
        # Periods divide epoch numbers: 0 used to fail with ZeroDivisionError after an epoch.
        (["TRAIN.CHECKPOINT_PERIOD", "0"], r"TRAIN\.CHECKPOINT_PERIOD is 0; expected 1 or more"),
        (["TRAIN.EVAL_PERIOD", "0"], r"TRAIN\.EVAL_PERIOD is 0; expected 1 or more"),
        (["TRAIN.DATASET", "imagenet"], r"TRAIN\.DATASET is 'imagenet'; expected one of"),
        (["TEST.DATASET", "epic"], r"TEST\.DATASET is 'epic'; expected one of .*ssv2"),
        (["MODEL.ARCH", "slowfast"], r"MODEL\.ARCH is 'slowfast'; expected one of 'vit'"),
        (["MIXUP.ALPHA", "-0.5"], r"MIXUP\.ALPHA is -0\.5"),
        (["MIXUP.LABEL_SMOOTHING", "1.0"], r"MIXUP\.LABEL_SMOOTHING is 1\.0"),
        (["SOLVER.MOMENTUM", "-0.9"], r"SOLVER\.MOMENTUM is -0\.9"),
        (["SOLVER.WARMUP_START_LR", "-1"], r"SOLVER\.WARMUP_START_LR is -1\.0"),
        (["DATA.PATH_LABEL_SEPARATOR", ""], r"DATA\.PATH_LABEL_SEPARATOR is empty"),
        (["RNG_SEED", "-1"], r"RNG_SEED is -1"),
        (["TENSORBOARD.HISTOGRAM.TOPK", "0"], r"TENSORBOARD\.HISTOGRAM\.TOPK is 0"),
        (["TENSORBOARD.HISTOGRAM.FIGSIZE", "[8]"], r"TENSORBOARD\.HISTOGRAM\.FIGSIZE is \[8\.0\]"),
        (["BENCHMARK.NUM_EPOCHS", "0"], r"BENCHMARK\.NUM_EPOCHS is 0"),
        (
            [
                "SOLVER.LR_POLICY",
                "steps_with_relative_lrs",
                "SOLVER.STEPS",
                "[0, 1, 1]",
                "SOLVER.LRS",
                "[1, 0.1, 0.01]",
            ],
            r"SOLVER\.STEPS is \[0, 1, 1\]; expected strictly increasing",
        ),
        (["TEST.NUM_ENSEMBLE_VIEWS", "100000"], r"TEST\.NUM_ENSEMBLE_VIEWS is 100000; expected 1 "),
    ],
)
def test_impossible_values_fail_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _checked(*overrides)


def test_more_gpus_than_present_fails():
    import torch

    present = torch.cuda.device_count()
    with pytest.raises(
        ConfigError, match=rf"NUM_GPUS is {present + 1} but this machine has {present}"
    ):
        _checked(
            "NUM_GPUS",
            str(present + 1),
            "TRAIN.BATCH_SIZE",
            str(present + 1),
            "TEST.BATCH_SIZE",
            str(present + 1),
            check_devices=True,
        )


def test_inference_moves_legacy_ensemble_key_and_scales_lr():
    cfg = _checked(
        "DATA.ENSEMBLE_METHOD",
        "max",
        "NUM_SHARDS",
        "4",
        "SOLVER.BASE_LR_SCALE_NUM_SHARDS",
        "True",
        "SOLVER.BASE_LR",
        "0.1",
    )
    assert cfg.TEST.ENSEMBLE_METHOD == "max"
    assert cfg.SOLVER.BASE_LR == pytest.approx(0.4)
    # Checking again must not scale twice.
    assert assert_and_infer_cfg(cfg, check_devices=False).SOLVER.BASE_LR == pytest.approx(0.4)


def test_cpu_runs_use_gloo():
    assert _checked("NUM_GPUS", "0").DIST_BACKEND == "gloo"


def test_dataset_names_are_case_insensitive():
    assert _checked("TRAIN.DATASET", "Kinetics", "TEST.DATASET", "SSv2").TRAIN.DATASET == "Kinetics"


def test_steps_after_max_epoch_are_allowed_with_a_warning(caplog):
    """The usual smoke test (or a resume with a larger MAX_EPOCH): the original runs it, keeping the
    learning rate of the last step reached."""
    path = os.path.join(REPO_ROOT, "configs/Kinetics/TimeSformer_divST_8x32_224.yaml")
    cfg = merge_overrides(merge_yaml_file(get_cfg(), path), ["SOLVER.MAX_EPOCH", "2"])
    with caplog.at_level(logging.WARNING):
        assert_and_infer_cfg(cfg, check_devices=False)
    assert "step(s) [11, 14] are at or after SOLVER.MAX_EPOCH (2)" in caplog.text
    # The original's lr_policy.get_step_index: the index of the last step <= epoch, reading
    # STEPS + [MAX_EPOCH]; epochs 0 .. 2 all fall in the first step (LR x 1).
    steps = list(cfg.SOLVER.STEPS) + [cfg.SOLVER.MAX_EPOCH]
    for epoch in (0.0, 1.0, 1.99):
        index = next(i for i, step in enumerate(steps) if epoch < step) - 1
        expected = cfg.SOLVER.BASE_LR * cfg.SOLVER.LRS[index]
        assert get_lr_at_epoch(cfg, epoch) == pytest.approx(expected) == pytest.approx(0.005)


def test_the_originals_adam_is_accepted():
    assert _checked("SOLVER.OPTIMIZING_METHOD", "adam").SOLVER.OPTIMIZING_METHOD == "adam"


@pytest.mark.parametrize(
    "overrides, keys",
    [
        (["DATA.NUM_FRAMES", "100000"], "DATA.NUM_FRAMES 100000"),
        (["DATA.TEST_CROP_SIZE", "65536"], "DATA.TEST_CROP_SIZE 65536"),
        (
            ["DATA.TRAIN_CROP_SIZE", "65536", "DATA.TRAIN_JITTER_SCALES", "[65536, 65536]"],
            "DATA.TRAIN_CROP_SIZE 65536",
        ),
        (["TIMESFORMER.EMBED_DIM", "1048576", "TIMESFORMER.NUM_HEADS", "16"], "EMBED_DIM 1048576"),
        (["TIMESFORMER.DEPTH", "100000"], "TIMESFORMER.DEPTH 100000"),
    ],
)
def test_a_run_that_cannot_fit_in_memory_is_refused_naming_the_keys(overrides, keys):
    with pytest.raises(ConfigError) as error:
        _checked("NUM_GPUS", "0", *overrides, check_devices=True)
    message = str(error.value)
    assert "\n" not in message and keys in message
    assert "of RAM (NUM_GPUS 0)" in message and "This run needs at least" in message


def test_the_shipped_configs_fit_the_gpus_the_paper_trained_on(monkeypatch):
    """The original trained on 32 GB V100s: every shipped config's floor fits one."""
    monkeypatch.setattr(memory, "device_memory", lambda cfg: (32 * 2**30, "a 32 GB V100"))
    configs = glob.glob(os.path.join(REPO_ROOT, "configs", "**", "*.yaml"), recursive=True)
    assert len(configs) > 5
    for path in configs:
        cfg = get_cfg()
        merge_yaml_file(cfg, path)
        assert memory.unfit_message(cfg) is None, path


def test_the_memory_floor_counts_the_models_parameters():
    """ViT-Base/16 TimeSformer, 8 frames of 224, 400 classes: 121.4 M parameters (the paper's
    121.57 M less the norms' and biases' few); every weight matrix counted."""
    cfg = get_cfg()
    assert 121.2e6 < memory.parameter_count(cfg) < 121.6e6
    cfg.TIMESFORMER.ATTENTION_TYPE = "space_only"
    assert 85.5e6 < memory.parameter_count(cfg) < 86.5e6  # ViT-Base/16: 86 M


def test_the_memory_floor_holds_the_ema_of_a_training_run():
    """MODEL_EMA keeps one more float32 copy of the parameters while training."""
    cfg = get_cfg()
    plain = memory.memory_floor(cfg)[0][0]
    cfg.MODEL_EMA.ENABLE = True
    assert memory.memory_floor(cfg)[0][0] == plain * 3 // 2
    assert "their EMA" in memory.memory_floor(cfg)[0][1]
    cfg.TRAIN.ENABLE = False  # testing holds the weights once
    assert memory.memory_floor(cfg)[0][0] == plain // 2


@pytest.mark.parametrize(
    "registry, key, name",
    [
        (LR_POLICIES, "SOLVER.LR_POLICY", "linear"),
        (OPTIMIZERS, "SOLVER.OPTIMIZING_METHOD", "lion"),
        (LOSSES, "MODEL.LOSS_FUNC", "focal"),
        (DTYPES, "TRAIN.MIXED_PRECISION_DTYPE", "fp8"),
        (ENSEMBLE_METHODS, "TEST.ENSEMBLE_METHOD", "mean"),
    ],
)
def test_allowed_values_are_the_implementations_names(registry, key, name, monkeypatch):
    """A name the implementing module adds is accepted: the checks keep no copy of the names."""
    with pytest.raises(ConfigError, match=rf"{key} is '{name}'; expected one of"):
        _checked(key, name)
    monkeypatch.setitem(registry, name, None)
    section, option = key.split(".")
    assert _checked(key, name)[section][option] == name


@pytest.mark.parametrize(
    "module, values, key, value",
    [
        (mixup, "MIXUP_MODES", "MIXUP.MODE", "frame"),
        (transform, "SPATIAL_CROP_COUNTS", "TEST.NUM_SPATIAL_CROPS", 5),
    ],
)
def test_allowed_values_are_the_implementations_tuples(module, values, key, value, monkeypatch):
    with pytest.raises(ConfigError, match=rf"{key} is {value!r}; expected one of"):
        _checked(key, str(value))
    monkeypatch.setattr(module, values, (*getattr(module, values), value))
    section, option = key.split(".")
    assert _checked(key, str(value))[section][option] == value


def _registered_in_source() -> set[str]:
    """The keys the package's modules pass to ``register_allowed_values``."""
    keys = set()
    for path in glob.glob(os.path.join(REPO_ROOT, "timesformer", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as stream:
            tree = ast.parse(stream.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "register_allowed_values":
                if isinstance(node.args[0], ast.Constant):
                    keys.add(node.args[0].value)
    return keys


@pytest.mark.parametrize("entry_point", ["timesformer.engine", "timesformer.engine.launch"])
def test_the_engine_registers_every_implementations_values(entry_point):
    """The engine (which every command line's config loading imports,
    timesformer.cli.config_loading), imported alone in a fresh process, has imported every module
    that registers the values a config key takes, so that no check of those keys is skipped."""
    code = (
        f"import {entry_point}\n"
        "import timesformer.config.checks as checks\n"
        "print(' '.join(sorted(checks._REGISTERED_VALUES)))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == sorted(_registered_in_source())
    assert {"TIMESFORMER.ATTENTION_TYPE", "SOLVER.LR_POLICY", "TRAIN.DATASET"} <= set(
        run.stdout.split()
    )
