"""Merging YAML files and KEY VALUE overrides into the config, strictly: types, unknown keys with
suggestions, files named, declared types of keys whose default hides theirs."""

import re

import pytest

from helpers import tiny_cfg
from timesformer.config import ConfigError, get_cfg
from timesformer.config.defaults import VALUE_TYPES
from timesformer.config.merge import leaf_values, merge_overrides, merge_yaml_file


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


def test_null_pretrained_model_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "null.yaml"
    path.write_text("TIMESFORMER:\n  PRETRAINED_MODEL: null\n")
    expected = r"TIMESFORMER\.PRETRAINED_MODEL in config file .* is None \(NoneType\); expected"
    with pytest.raises(ConfigError, match=expected):
        merge_yaml_file(get_cfg(), str(path))


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
    cfg = tiny_cfg(
        "",
        "",
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


def test_empty_config_file_is_named(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match=r"empty\.yaml is empty; expected a mapping of keys"):
        merge_yaml_file(get_cfg(), str(path))


def test_option_among_overrides_is_named():
    with pytest.raises(ConfigError, match=r"--split is an option, not a config key: put options"):
        merge_overrides(get_cfg(), ["NUM_GPUS", "0", "--split", "val"])
