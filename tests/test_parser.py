"""The command lines of run_net.py and the tools: arguments, and config mistakes as one line."""

import argparse

import pytest
import torch

from timesformer.utils.parser import (
    build_arg_parser,
    load_config_or_exit,
    load_tool_config,
    parse_args,
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


def test_a_tool_config_falls_back_to_the_cpu():
    parser = build_arg_parser("a tool", items="VIDEO")
    cfg, paths = load_tool_config(parser, parser.parse_args(["v.mp4", "NUM_GPUS", "1"]))
    assert paths == ["v.mp4"]
    assert cfg.NUM_GPUS == (1 if torch.cuda.is_available() else 0)


def test_a_config_mistake_is_one_line_and_exit_status_2(capsys):
    parser = build_arg_parser("a tool")
    parser.prog = "tool.py"
    with pytest.raises(SystemExit) as exit_info:
        load_config_or_exit(parser, argparse.Namespace(cfg_file=None, opts=["SOLVER.BASE_RL", "1"]))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "tool.py: error: Unknown config key SOLVER.BASE_RL in the command line. "
        "Did you mean: SOLVER.BASE_LR?\n"
    )


def test_tools_without_a_config_take_only_their_own_arguments():
    parser = build_arg_parser("convert", config=False)
    assert "--cfg" not in parser.format_help()
