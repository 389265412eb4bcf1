"""Merging YAML files and KEY VALUE overrides into the config, strictly: types, unknown keys with
suggestions, files named, declared types of keys whose default hides theirs."""

import os
import re
import threading

import pytest

import timesformer.models  # noqa: F401 -- registers MODEL.MODEL_NAME's names
from helpers import tiny_cfg
from timesformer.config import ConfigError, assert_and_infer_cfg, get_cfg
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
    with pytest.raises(
        ConfigError, match=r"SLOWFAST\.ALPHA in config file .* only the TimeSformer"
    ):
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


# _BASE_ and --cfg name only regular YAML files, checked before they are opened


def _merge_with_timeout(path: str, fifo: str) -> ConfigError | None:
    """merge_yaml_file(path) in a thread; fails the test (after unblocking it by opening ``fifo``
    for writing) when it is still running after 10 s, i.e. blocked opening the FIFO."""
    outcome = {}

    def merge() -> None:
        try:
            merge_yaml_file(get_cfg(), path)
        except ConfigError as error:
            outcome["error"] = error

    thread = threading.Thread(target=merge, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # a writer: the reader gets EOF
        thread.join(10)
        pytest.fail(f"merge_yaml_file opened the FIFO {fifo} and blocked on it")
    return outcome.get("error")


def test_base_naming_a_fifo_fails_before_opening_it(tmp_path):
    fifo = tmp_path / "base.yaml"
    os.mkfifo(fifo)
    child = tmp_path / "child.yaml"
    child.write_text("_BASE_: base.yaml\nNUM_GPUS: 0\n")
    error = _merge_with_timeout(str(child), str(fifo))
    assert error is not None and "\n" not in str(error)
    assert str(error).startswith(f"Config file {child}: its _BASE_ base.yaml ({fifo}) is not a")
    assert "not a regular file (a folder, FIFO or device); expected a regular file ending" in str(
        error
    )


def test_base_naming_another_file_never_shows_its_content(tmp_path):
    secret = "sk_live_9f8e7d6c5b4a39281706SECRET"
    (tmp_path / "credentials.txt").write_text(f"{secret}:\n  - hunter2\n")
    child = tmp_path / "child.yaml"
    child.write_text("_BASE_: credentials.txt\n")
    with pytest.raises(ConfigError) as caught:
        merge_yaml_file(get_cfg(), str(child))
    message = str(caught.value)
    assert secret not in message and "hunter2" not in message
    assert message == (
        f"Config file {child}: its _BASE_ credentials.txt ({tmp_path / 'credentials.txt'}) is "
        "not a YAML file; expected a regular file ending in .yaml or .yml (a relative path is "
        "relative to this file)."
    )


@pytest.mark.parametrize("base", ["/proc/self/environ", "/etc/passwd", "/dev/zero"])
def test_base_naming_a_system_file_is_refused(tmp_path, base):
    child = tmp_path / "child.yaml"
    child.write_text(f"_BASE_: [{base}]\n")
    with pytest.raises(ConfigError, match=f"Config file .*child.yaml: its _BASE_ {base} is not"):
        merge_yaml_file(get_cfg(), str(child))


def test_base_naming_a_folder_is_refused(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    child = tmp_path / "child.yaml"
    child.write_text("_BASE_: folder.yaml\n")
    with pytest.raises(ConfigError, match=r"child\.yaml: its _BASE_ folder\.yaml .* is not a reg"):
        merge_yaml_file(get_cfg(), str(child))


def test_base_linking_to_another_file_is_refused(tmp_path):
    (tmp_path / "secret.txt").write_text("TOKEN_abc123: 1\n")
    os.symlink(tmp_path / "secret.txt", tmp_path / "link.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("_BASE_: link.yaml\n")
    with pytest.raises(ConfigError, match=r"_BASE_ link\.yaml .* is not a YAML file") as caught:
        merge_yaml_file(get_cfg(), str(child))
    assert "TOKEN_abc123" not in str(caught.value)


def test_missing_base_names_the_file_that_names_it(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("_BASE_: ../nowhere/base.yaml\n")
    expected = r"child\.yaml: its _BASE_ \.\./nowhere/base\.yaml \(.*\) does not exist; expected"
    with pytest.raises(ConfigError, match=expected):
        merge_yaml_file(get_cfg(), str(child))


@pytest.mark.parametrize("kind", ["text file", "folder", "fifo"])
def test_cfg_that_is_no_yaml_file_is_refused(tmp_path, kind):
    path = tmp_path / ("settings.txt" if kind == "text file" else "settings.yaml")
    if kind == "text file":
        path.write_text("NUM_GPUS: 0\n")
    elif kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    problem = "is not a YAML file" if kind == "text file" else "is not a regular file (a folder,"
    error = _merge_with_timeout(str(path), str(path))
    assert str(error).startswith(f"Config file {path} {problem}")
    assert str(error).endswith(
        "(given with --cfg); expected a regular file ending in .yaml or .yml."
    )


def test_bases_resolve_relative_to_the_file_naming_them(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "runs").mkdir()
    (tmp_path / "common" / "data.yaml").write_text("DATA:\n  NUM_FRAMES: 16\n  SAMPLING_RATE: 4\n")
    (tmp_path / "common" / "model.yml").write_text(
        "_BASE_: data.yaml\nDATA:\n  NUM_FRAMES: 32\nMODEL:\n  NUM_CLASSES: 10\n"
    )
    (tmp_path / "solver.yaml").write_text("SOLVER:\n  BASE_LR: 0.5\nMODEL:\n  NUM_CLASSES: 20\n")
    child = tmp_path / "runs" / "child.yaml"
    child.write_text("_BASE_: [../common/model.yml, ../solver.yaml]\nSOLVER:\n  BASE_LR: 0.25\n")
    cfg = merge_yaml_file(get_cfg(), str(child))
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE) == (32, 4)
    assert (cfg.MODEL.NUM_CLASSES, cfg.SOLVER.BASE_LR) == (20, 0.25)


def test_base_cycle_fails_naming_the_files(tmp_path):
    (tmp_path / "a.yaml").write_text("_BASE_: b.yaml\n")
    (tmp_path / "b.yaml").write_text("_BASE_: a.yaml\n")
    with pytest.raises(ConfigError, match=r"b\.yaml: its _BASE_ a\.yaml is a file that includes"):
        merge_yaml_file(get_cfg(), str(tmp_path / "a.yaml"))


def test_empty_base_file_is_named(tmp_path):
    (tmp_path / "base.yaml").write_text("")
    (tmp_path / "child.yaml").write_text("_BASE_: base.yaml\n")
    with pytest.raises(ConfigError, match=r"base\.yaml \(a _BASE_ of .*child\.yaml\) is empty"):
        merge_yaml_file(get_cfg(), str(tmp_path / "child.yaml"))


@pytest.mark.parametrize("where", ["file", "command line"])
def test_long_key_name_is_cut_in_the_error(tmp_path, where):
    key = "K" * 5000
    path = tmp_path / "long.yaml"
    path.write_text(f"? {key}\n: 1\n")  # an explicit key: YAML's implicit ones are < 1024
    with pytest.raises(ConfigError, match=r"Unknown config key K+\.\.\. in ") as caught:
        if where == "file":
            merge_yaml_file(get_cfg(), str(path))
        else:
            merge_overrides(get_cfg(), [key, "1"])
    assert len(str(caught.value)) < 300 and "K" * 81 not in str(caught.value)


def test_key_with_a_newline_is_shown_on_one_line(tmp_path):
    path = tmp_path / "newline.yaml"
    path.write_text('"BAD\\nKEY": 1\n')
    with pytest.raises(ConfigError, match=r"Unknown config key BAD\\nKEY in config file") as caught:
        merge_yaml_file(get_cfg(), str(path))
    assert "\n" not in str(caught.value)


def test_long_value_is_cut_in_the_error():
    with pytest.raises(ConfigError, match=r"NUM_GPUS in the command line is 'xxx+\.\.\. \(str\)"):
        merge_overrides(get_cfg(), ["NUM_GPUS", "x" * 5000])


# The original's SlowFast, X3D... configs: this project has only the TimeSformer models

ONLY_TIMESFORMER = "this project has only the TimeSformer models (MODEL.ARCH vit)"

SLOWFAST_8X8_R50 = """\
TRAIN:
  ENABLE: True
  DATASET: kinetics
  BATCH_SIZE: 64
DATA:
  NUM_FRAMES: 32
  SAMPLING_RATE: 2
  INPUT_CHANNEL_NUM: [3, 3]
SLOWFAST:
  ALPHA: 4
  BETA_INV: 8
RESNET:
  DEPTH: 50
  TRANS_FUNC: bottleneck_transform
NONLOCAL:
  LOCATION: [[[], []], [[], []], [[], []], [[], []]]
BN:
  USE_PRECISE_STATS: True
SOLVER:
  BASE_LR: 0.8
  WEIGHT_DECAY: 1e-4
MODEL:
  NUM_CLASSES: 400
  ARCH: slowfast
  MODEL_NAME: SlowFast
NUM_GPUS: 8
"""


def test_original_slowfast_config_says_only_timesformer(tmp_path):
    path = tmp_path / "SLOWFAST_8x8_R50.yaml"
    path.write_text(SLOWFAST_8X8_R50)
    with pytest.raises(ConfigError) as caught:
        merge_yaml_file(get_cfg(), str(path))
    message = str(caught.value)
    assert message.startswith(
        f"SLOWFAST.ALPHA in config file {path} configures the original's SlowFast model: "
        f"{ONLY_TIMESFORMER}, not the original's SlowFast, X3D"
    )
    assert "\n" not in message and "Unknown config key" not in message


def test_original_model_key_wins_over_a_misspelled_key(tmp_path):
    path = tmp_path / "x3d.yaml"
    path.write_text("DATA:\n  NUM_FRAME: 13\nX3D:\n  WIDTH_FACTOR: 2.0\n")
    with pytest.raises(ConfigError, match=r"^X3D\.WIDTH_FACTOR in config file .*X3D model: this"):
        merge_yaml_file(get_cfg(), str(path))


@pytest.mark.parametrize(
    "key, part",
    [
        ("SLOWFAST.ALPHA", "SlowFast model"),
        ("RESNET.DEPTH", "ResNet models"),
        ("X3D.WIDTH_FACTOR", "X3D model"),
        ("NONLOCAL.LOCATION", "non-local blocks"),
        ("BN.USE_PRECISE_STATS", "batch norm"),
        ("DETECTION.ENABLE", "AVA action detection"),
        ("AVA.BGR", "AVA action detection dataset"),
        ("MULTIGRID.LONG_CYCLE", "multigrid training"),
        ("MODEL.HEAD_ACT", "head"),
        ("MODEL.MULTI_PATHWAY_ARCH", "model families"),
    ],
)
def test_original_model_override_says_only_timesformer(key, part):
    with pytest.raises(ConfigError) as caught:
        merge_overrides(get_cfg(), ["NUM_GPUS", "0", key, "4"])
    assert str(caught.value).startswith(
        f"{key} in the command line configures the original's {part}"
    )
    assert ONLY_TIMESFORMER in str(caught.value)


@pytest.mark.parametrize(
    "key, value", [("MODEL.MODEL_NAME", "SlowFast"), ("MODEL.ARCH", "slowfast")]
)
def test_other_model_name_says_only_timesformer(key, value):
    cfg = merge_overrides(get_cfg(), ["NUM_GPUS", "0", key, value])
    with pytest.raises(ConfigError) as caught:
        assert_and_infer_cfg(cfg)
    assert str(caught.value).startswith(f"{key} is {value!r}; expected one of ")
    assert f": {ONLY_TIMESFORMER}, not the original's SlowFast" in str(caught.value)
