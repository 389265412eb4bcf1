"""The command lines of run_net.py and the tools: arguments, config mistakes as one line, and
the config a run saves in OUTPUT_DIR (a damaged one set aside)."""

import os

import pytest
import torch

from timesformer.cli.config_loading import load_tool_config
from timesformer.config import get_cfg
from timesformer.config.checks import ConfigError
from timesformer.utils.file_io import RunFolderError
from timesformer.utils.parser import (
    build_arg_parser,
    exit_with_error,
    parse_args,
    save_config,
    saved_config_changes,
    split_items,
)


def test_run_net_arguments_keep_the_original_names():
    args = parse_args(
        [
            "--cfg",
            "c.yaml",
            "--init_method",
            "tcp://h:1",
            "--shard_id",
            "1",
            "--num_shards",
            "2",
            "A.B",
            "3",
        ]
    )
    assert (args.cfg_file, args.init_method, args.shard_id, args.num_shards) == (
        "c.yaml",
        "tcp://h:1",
        1,
        2,
    )
    assert args.opts == ["A.B", "3"]


def test_paths_end_where_the_config_keys_begin(tmp_path):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"")
    assert split_items([str(video), "b.mp4", "NUM_GPUS", "0"]) == (
        [str(video), "b.mp4"],
        ["NUM_GPUS", "0"],
    )
    assert split_items(["b.mp4"]) == (["b.mp4"], [])


def test_missing_videos_spelled_like_keys_are_paths_and_typos_are_keys():
    """A missing CLIP.MP4 or VIDEO_1 used to start the overrides ("'0' has no value")."""
    items = ["CLIP.MP4", "VIDEO_1", "NUM_GPUS", "0"]
    assert split_items(items) == (["CLIP.MP4", "VIDEO_1"], ["NUM_GPUS", "0"])
    assert split_items(["a.mp4", "NUM_GPU", "0"])[1] == ["NUM_GPU", "0"]  # a typo: unknown key
    assert split_items(["a.mp4", "SLOWFAST.ALPHA", "4"])[1] == ["SLOWFAST.ALPHA", "4"]
    assert split_items(["a.mp4", "DATA.NUM_FRAMES", "4"])[1] == ["DATA.NUM_FRAMES", "4"]


def test_a_tool_config_falls_back_to_the_cpu():
    parser = build_arg_parser("a tool", items="VIDEO")
    cfg, paths = load_tool_config(parser.parse_args(["v.mp4", "NUM_GPUS", "1"]))
    assert paths == ["v.mp4"]
    assert cfg.NUM_GPUS == (1 if torch.cuda.is_available() else 0)


def test_an_option_after_the_paths_is_a_config_error():
    parser = build_arg_parser("a tool", items="VIDEO")
    with pytest.raises(ConfigError, match="--top-k is an option: put options before the paths"):
        load_tool_config(parser.parse_args(["v.mp4", "--top-k", "2"]))


@pytest.mark.parametrize("exit_status", [1, 2])
def test_an_error_exits_in_one_line_with_its_status(capsys, exit_status):
    parser = build_arg_parser("a tool")
    parser.prog = "tool.py"
    with pytest.raises(SystemExit) as exit_info:
        exit_with_error(parser, "TRAIN.EVAL_PERIOD is 0", exit_status)
    assert exit_info.value.code == exit_status
    assert capsys.readouterr().err == "tool.py: error: TRAIN.EVAL_PERIOD is 0\n"


def test_tools_without_a_config_take_only_their_own_arguments():
    parser = build_arg_parser("convert", config=False)
    assert "--cfg" not in parser.format_help()


DAMAGED_CONFIGS = {
    "random bytes": b"\x89\xfe\x00\xc3(\xff" * 20,
    "a list": b"- TRAIN\n- SOLVER\n",
    "a scalar": b"cut short by a crash\n",
    "broken YAML": b"TRAIN:\n  ENABLE: [true\n",
    "non-string keys": b"1: {2: 3}\n",
}


@pytest.mark.parametrize("damage", DAMAGED_CONFIGS)
def test_a_damaged_saved_config_is_set_aside_and_replaced(tmp_path, caplog, damage):
    """A damaged OUTPUT_DIR/config.yaml stopped every rerun with a traceback (or was replaced,
    lost, when its YAML was broken)."""
    cfg = get_cfg()
    cfg.OUTPUT_DIR = str(tmp_path)
    saved = tmp_path / "config.yaml"
    saved.write_bytes(DAMAGED_CONFIGS[damage])
    assert saved_config_changes(cfg) == []
    assert save_config(cfg) == str(saved)
    assert (tmp_path / "config.yaml.unreadable").read_bytes() == DAMAGED_CONFIGS[damage]
    assert saved.read_text() == cfg.dump()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith(f"The saved config {saved} cannot be read (")
    assert warning.endswith(
        f"; it is kept as {saved}.unreadable, and this run's config is saved as {saved}."
    )


def test_a_config_set_aside_earlier_is_never_replaced(tmp_path):
    cfg = get_cfg()
    cfg.OUTPUT_DIR = str(tmp_path)
    (tmp_path / "config.yaml.unreadable").write_bytes(b"\xff first")
    (tmp_path / "config.yaml").write_bytes(b"\xff second")
    save_config(cfg)
    assert (tmp_path / "config.yaml.unreadable").read_bytes() == b"\xff first"
    assert (tmp_path / "config.yaml.unreadable.1").read_bytes() == b"\xff second"
    cfg.SOLVER.BASE_LR = 0.5
    assert saved_config_changes(cfg) == ["SOLVER.BASE_LR: 0.1 -> 0.5"]


def test_a_folder_in_place_of_the_saved_config_is_one_run_folder_error(tmp_path):
    cfg = get_cfg()
    cfg.OUTPUT_DIR = str(tmp_path)
    (tmp_path / "config.yaml").mkdir()
    (tmp_path / "config.yaml" / "notes.txt").write_text("kept")
    message = (
        f"{tmp_path / 'config.yaml'} is a folder, but a run saves its config there as a YAML "
        "file: move the folder away, or choose another OUTPUT_DIR."
    )
    for step in (saved_config_changes, save_config):
        with pytest.raises(RunFolderError) as error:
            step(cfg)
        assert str(error.value) == message
    assert os.listdir(tmp_path / "config.yaml") == ["notes.txt"]
