"""The config tree, its checks, and every shipped YAML file."""

import glob
import logging
import os
import re

import pytest
import timm

from helpers import REPO_ROOT
from timesformer.config import ConfigError, assert_and_infer_cfg, get_cfg
from timesformer.config.defaults import VALUE_TYPES
from timesformer.config.merge import leaf_values, merge_overrides, merge_yaml_file
from timesformer.models.build import create_model
from timesformer.models.imagenet_weights import imagenet_weights_source
from timesformer.utils.lr_policy import get_lr_at_epoch

CONFIG_FILES = sorted(glob.glob(os.path.join(REPO_ROOT, "configs", "*", "*.yaml")))


def test_every_config_folder_has_files():
    folders = {os.path.basename(os.path.dirname(path)) for path in CONFIG_FILES}
    assert folders == {"Kinetics", "SSv2", "HowTo100M", "Demo"}


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_shipped_config_loads_and_passes_checks(path):
    cfg = merge_yaml_file(get_cfg(), path)
    # Configs for 8-GPU machines are checked here without looking for the GPUs.
    assert_and_infer_cfg(cfg, check_devices=False)
    assert cfg.TIMESFORMER.ATTENTION_TYPE in (
        "divided_space_time",
        "joint_space_time",
        "space_only",
    )


def test_published_kinetics_recipe():
    cfg = merge_yaml_file(
        get_cfg(), os.path.join(REPO_ROOT, "configs/Kinetics/TimeSformer_divST_8x32_224.yaml")
    )
    assert cfg.SOLVER.OPTIMIZING_METHOD == "sgd"
    assert cfg.SOLVER.BASE_LR == 0.005
    assert list(cfg.SOLVER.STEPS) == [0, 11, 14] and list(cfg.SOLVER.LRS) == [1, 0.1, 0.01]
    assert cfg.SOLVER.MAX_EPOCH == 15 and cfg.SOLVER.MOMENTUM == 0.9
    assert cfg.SOLVER.WEIGHT_DECAY == pytest.approx(1e-4)
    assert list(cfg.DATA.TRAIN_JITTER_SCALES) == [256, 320]
    assert (cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS) == (1, 3)
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_SIZE) == (8, 32, 224)


def test_ssv2_recipe_has_174_classes_and_no_flips():
    for path in glob.glob(os.path.join(REPO_ROOT, "configs/SSv2/*.yaml")):
        cfg = merge_yaml_file(get_cfg(), path)
        assert cfg.MODEL.NUM_CLASSES == 174
        assert cfg.DATA.RANDOM_FLIP is False


ORIGINAL_RECIPE_FILES = [
    path for path in CONFIG_FILES if os.path.basename(os.path.dirname(path)) != "Demo"
]


@pytest.mark.parametrize("path", ORIGINAL_RECIPE_FILES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_shipped_recipes_compute_what_the_original_computes(path, monkeypatch):
    """Every Kinetics, SSv2 and HowTo100M config names the original's ImageNet weights, and
    neither loading it nor building its model fetches them."""

    def no_weights(*args, **kwargs):
        raise AssertionError("timm.create_model called: ImageNet weights fetched or loaded")

    monkeypatch.setattr(timm, "create_model", no_weights)
    cfg = assert_and_infer_cfg(merge_yaml_file(get_cfg(), path), check_devices=False)
    assert imagenet_weights_source(cfg.TIMESFORMER.PRETRAINED_MODEL) == (
        "vit_base_patch16_224.orig_in21k_ft_in1k"
    )
    # The original's defaults: raw logits summed over views, every parameter decayed.
    assert (cfg.TEST.ENSEMBLE_METHOD, cfg.TEST.ENSEMBLE_SOFTMAX) == ("sum", False)
    assert cfg.SOLVER.ZERO_WD_1D_PARAM is False
    # MODEL.DROPOUT_RATE 0.5, as in the original YAML files, which never applied it.
    assert cfg.MODEL.DROPOUT_RATE == 0.5 and cfg.MODEL.HEAD_DROPOUT_RATE == 0.0
    tiny = ["TIMESFORMER.EMBED_DIM", "32", "TIMESFORMER.DEPTH", "1", "TIMESFORMER.NUM_HEADS", "2"]
    model = create_model(merge_overrides(cfg, tiny))
    assert model.model.head_drop.p == 0.0


def test_defaults_are_vit_base():
    tf = get_cfg().TIMESFORMER
    assert (tf.EMBED_DIM, tf.DEPTH, tf.NUM_HEADS, tf.PATCH_SIZE, tf.MLP_RATIO) == (
        768,
        12,
        12,
        16,
        4.0,
    )


def test_overrides_apply_with_types():
    cfg = merge_overrides(
        get_cfg(),
        ["SOLVER.BASE_LR", "1", "TRAIN.ENABLE", "false", "DATA.TRAIN_JITTER_SCALES", "[128, 160]"],
    )
    assert cfg.SOLVER.BASE_LR == 1.0 and isinstance(cfg.SOLVER.BASE_LR, float)
    assert cfg.TRAIN.ENABLE is False
    assert list(cfg.DATA.TRAIN_JITTER_SCALES) == [128, 160]


def test_override_keeps_text_values_as_text():
    cfg = merge_overrides(get_cfg(), ["OUTPUT_DIR", "123"])
    assert cfg.OUTPUT_DIR == "123"


def test_misspelled_override_names_key_and_suggestion():
    with pytest.raises(ConfigError, match=r"Unknown config key SOLVER\.BASE_RL .*SOLVER\.BASE_LR"):
        merge_overrides(get_cfg(), ["SOLVER.BASE_RL", "0.1"])


def test_key_in_wrong_section_suggests_right_section():
    with pytest.raises(ConfigError, match=r"TRAIN\.NUM_FRAMES.*DATA\.NUM_FRAMES"):
        merge_overrides(get_cfg(), ["TRAIN.NUM_FRAMES", "16"])


def test_misspelled_yaml_key_names_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("DATA:\n  NUM_FRAME: 8\n")
    with pytest.raises(
        ConfigError, match=r"DATA\.NUM_FRAME in config file .*bad\.yaml.*DATA\.NUM_FRAMES"
    ):
        merge_yaml_file(get_cfg(), str(path))


def test_unknown_slowfast_key_is_rejected(tmp_path):
    path = tmp_path / "slowfast.yaml"
    path.write_text("SLOWFAST:\n  ALPHA: 8\n")
    with pytest.raises(ConfigError, match=r"Unknown config key SLOWFAST\.ALPHA"):
        merge_yaml_file(get_cfg(), str(path))


def test_yaml_base_file_is_merged(tmp_path):
    (tmp_path / "base.yaml").write_text("DATA:\n  NUM_FRAMES: 16\nSOLVER:\n  BASE_LR: 0.5\n")
    (tmp_path / "child.yaml").write_text("_BASE_: base.yaml\nSOLVER:\n  BASE_LR: 0.25\n")
    cfg = merge_yaml_file(get_cfg(), str(tmp_path / "child.yaml"))
    assert cfg.DATA.NUM_FRAMES == 16 and cfg.SOLVER.BASE_LR == 0.25


def test_wrong_type_names_key_and_expected_type():
    with pytest.raises(ConfigError, match=r"DATA\.NUM_FRAMES .*'eight'.*expected an int"):
        merge_overrides(get_cfg(), ["DATA.NUM_FRAMES", "eight"])


def test_override_without_value_fails():
    with pytest.raises(ConfigError, match="KEY VALUE pairs"):
        merge_overrides(get_cfg(), ["NUM_GPUS", "0", "TRAIN.BATCH_SIZE"])


def test_missing_config_file_is_named(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="nope.yaml does not exist"):
        merge_yaml_file(get_cfg(), missing)


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
        (["TEST.DATASET", "ucf101"], r"TEST\.DATASET is 'ucf101'; expected one of .*ssv2"),
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
    ],
)
def test_impossible_values_fail_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _checked(*overrides)


def test_null_pretrained_model_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "null.yaml"
    path.write_text("TIMESFORMER:\n  PRETRAINED_MODEL: null\n")
    expected = r"TIMESFORMER\.PRETRAINED_MODEL in config file .* is None \(NoneType\); expected"
    with pytest.raises(ConfigError, match=expected):
        merge_yaml_file(get_cfg(), str(path))


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


# ---------------------------------------------------------------------------- #
# Value types: every key has one, including those whose default is None
# ---------------------------------------------------------------------------- #


def test_keys_whose_default_hides_the_type_declare_it():
    """None and empty-list defaults say nothing of the type; VALUE_TYPES must."""
    hidden = [
        key
        for key, value in leaf_values(get_cfg()).items()
        if value is None or (isinstance(value, (list, tuple)) and not value)
    ]
    assert hidden and sorted(hidden) == sorted(k for k in hidden if k in VALUE_TYPES)
    assert set(VALUE_TYPES) <= set(leaf_values(get_cfg()))


@pytest.mark.parametrize(
    "key, value, message",
    [
        # Keys whose default is None took any value, and the checks then compared str to int.
        ("SOLVER.CLIP_GRAD_L2NORM", "abc", r"'abc' \(str\); expected a float or None"),
        ("MIXUP.CUTMIX_MINMAX", "ab", r"'ab' \(str\); expected a list of float or None"),
        ("MIXUP.CUTMIX_MINMAX", "[0.2, 'x']", r"\[0\.2, 'x'\] \(list\); expected a list of float"),
        ("DATA.ENSEMBLE_METHOD", "3", r"3 \(int\); expected a str or None"),
        # List items are checked too, and None is no value of a key whose default is not None.
        ("DATA.MEAN", "['a', 'b', 'c']", r"expected a list of float like the default"),
        ("SOLVER.LRS", "[1, 'x']", r"expected a list of float"),
        ("SOLVER.STEPS", "[0, 1.5]", r"expected a list of int"),
        ("NUM_GPUS", "None", r"None \(NoneType\); expected an int like the default 1"),
    ],
)
def test_wrong_type_of_any_key_fails_at_merge_naming_it(key, value, message):
    with pytest.raises(ConfigError, match=re.escape(key) + " in the command line is .*" + message):
        merge_overrides(get_cfg(), [key, value])


def test_declared_types_convert_values():
    cfg = _checked(
        "SOLVER.CLIP_GRAD_L2NORM",
        "1",
        "MIXUP.CUTMIX_MINMAX",
        "[0.2, 1]",
        "SOLVER.LR_POLICY",
        "steps_with_relative_lrs",
        "SOLVER.STEPS",
        "[0, 5]",
        "SOLVER.LRS",
        "[1, 0]",
        "DATA.ENSEMBLE_METHOD",
        "max",
    )
    assert cfg.SOLVER.CLIP_GRAD_L2NORM == 1.0 and isinstance(cfg.SOLVER.CLIP_GRAD_L2NORM, float)
    assert list(cfg.MIXUP.CUTMIX_MINMAX) == [0.2, 1.0]
    assert all(isinstance(lr, float) for lr in cfg.SOLVER.LRS)
    assert cfg.TEST.ENSEMBLE_METHOD == "max"
    unset = merge_overrides(get_cfg(), ["SOLVER.CLIP_GRAD_L2NORM", "None"])
    assert unset.SOLVER.CLIP_GRAD_L2NORM is None


def test_yaml_list_becomes_the_declared_tuple(tmp_path):
    path = tmp_path / "clear.yaml"
    path.write_text("TRAIN:\n  CHECKPOINT_CLEAR_NAME_PATTERN: ['module.']\n")
    cfg = merge_yaml_file(get_cfg(), str(path))
    assert cfg.TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN == ("module.",)


def test_dataset_names_are_case_insensitive():
    assert _checked("TRAIN.DATASET", "Kinetics", "TEST.DATASET", "SSv2").TRAIN.DATASET == "Kinetics"


def test_empty_config_file_is_named(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match=r"empty\.yaml is empty; expected a mapping of keys"):
        merge_yaml_file(get_cfg(), str(path))


def test_option_among_overrides_is_named():
    with pytest.raises(ConfigError, match=r"--split is an option, not a config key: put options"):
        merge_overrides(get_cfg(), ["NUM_GPUS", "0", "--split", "val"])


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
