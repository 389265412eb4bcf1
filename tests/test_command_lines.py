"""Every entry point that takes a config stops a mistake in it with one line ``TOOL: error: ...``
naming the key (exit status 2, no traceback) before any work: a misspelled override, a value of
the wrong type, and an option written after the KEY VALUE overrides (or after the VIDEO paths).
Every entry point ends on any other error a user can act on (a missing file, say) with such a
line too, and that error's exit status."""

import os
import sys

import pytest

from helpers import DEMO_CFG, run_net
from timesformer.cli import (
    benchmark,
    benchmark_model,
    check_dataset,
    convert_checkpoint,
    demo,
    export,
    extract_features,
    model_stats,
    predict,
    submit,
    test_net,
    train_net,
    visualize_attention,
)


def _tool_args(tool: str, tmp_path) -> list[str]:
    """The arguments ``tool`` needs before its overrides: the config (the demo has its own), its
    required options, a video."""
    video = str(tmp_path / "video.mp4")
    return ([] if tool == "demo" else ["--cfg", DEMO_CFG]) + {
        "predict": ["--checkpoint", "model.pyth", video],
        "extract_features": ["--checkpoint", "model.pyth", "--output-dir", str(tmp_path), video],
        "visualize_attention": ["--checkpoint", "model.pyth", "--output-dir", str(tmp_path), video],
        "export": ["--checkpoint", "model.pyth", "--output", str(tmp_path / "model.pt")],
        "demo": ["--data-dir", str(tmp_path / "demo_data")],
        "submit": ["--job_dir", str(tmp_path / "job"), "--cluster", "local"],
    }.get(tool, [])


# tool -> an option of its own, to write after the overrides
TOOL_OPTIONS = {
    "run_net": ["--init_method", "tcp://127.0.0.1:9999"],
    "train_net": ["--shard_id", "0"],
    "test_net": ["--num_shards", "1"],
    "check_dataset": ["--split", "val"],
    "predict": ["--top-k", "2"],
    "extract_features": ["--per-clip"],
    "visualize_attention": ["--view", "1"],
    "model_stats": ["--json"],
    "export": ["--batch-size", "2"],
    "benchmark": ["--synthetic"],
    "demo": ["--epochs", "1"],
    "submit": ["--num_gpus", "0"],
}


MAINS = {
    "run_net": run_net,
    "train_net": train_net.main,
    "test_net": test_net.main,
    "check_dataset": check_dataset.main,
    "predict": predict.main,
    "extract_features": extract_features.main,
    "visualize_attention": visualize_attention.main,
    "model_stats": model_stats.main,
    "export": export.main,
    "benchmark": benchmark.main,
    "demo": demo.main,
    "submit": submit.main,
    "benchmark_model": benchmark_model.main,
    "convert_checkpoint": convert_checkpoint.main,
}
"""Each tool's main: its module of timesformer.cli; for tools/run_net.py, train_net.py and
test_net.py, the engine's command line with their loop."""


def _run(tool: str, argv: list[str], capsys) -> tuple[int, list[str]]:
    """(exit status, stderr lines) of ``tool``'s main."""
    try:
        status = MAINS[tool](argv)
    except SystemExit as exit_info:
        status = exit_info.code
    return status, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("tool", sorted(TOOL_OPTIONS))
@pytest.mark.parametrize(
    "override, message",
    [
        (
            ["SOLVER.BASE_RL", "0.1"],
            "Unknown config key SOLVER.BASE_RL in the command line. Did you mean: SOLVER.BASE_LR?",
        ),
        (
            ["SOLVER.CLIP_GRAD_L2NORM", "abc"],
            "SOLVER.CLIP_GRAD_L2NORM in the command line is 'abc' (str); expected a float or None "
            "(unset, the default).",
        ),
        (["TRAIN.EVAL_PERIOD", "0"], "TRAIN.EVAL_PERIOD is 0; expected 1 or more"),
    ],
)
def test_config_mistake_is_one_line_naming_the_key(tool, override, message, tmp_path, capsys):
    argv = [*_tool_args(tool, tmp_path), "NUM_GPUS", "0", *override]
    status, lines = _run(tool, argv, capsys)
    assert status == 2
    assert len(lines) == 1 and f": error: {message}" in lines[0]
    assert not (tmp_path / "demo_data").exists()  # the demo stops before generating data


@pytest.mark.parametrize("tool", sorted(TOOL_OPTIONS))
def test_option_after_the_overrides_is_named(tool, tmp_path, capsys):
    option = TOOL_OPTIONS[tool]
    argv = [*_tool_args(tool, tmp_path), "NUM_GPUS", "0", *option]
    if tool in ("predict", "extract_features", "visualize_attention"):  # after the VIDEO path
        argv = [*_tool_args(tool, tmp_path), *option, "NUM_GPUS", "0"]
    status, lines = _run(tool, argv, capsys)
    assert status == 2
    assert len(lines) == 1
    assert f": error: {option[0]} is an option" in lines[0]
    assert "put options before the" in lines[0]


def _bad_inputs(tmp_path) -> dict[str, tuple[list[str], int, str]]:
    """tool -> (a command line with one bad input, the exit status, the error's message)."""
    empty, missing, a_file = tmp_path / "empty", tmp_path / "model.pyth", tmp_path / "a_file"
    empty.mkdir()
    a_file.write_text("")
    run = ["--cfg", DEMO_CFG, "NUM_GPUS", "0", "OUTPUT_DIR", str(tmp_path / "out")]
    no_split = [*run, "DATA.PATH_TO_DATA_DIR", str(empty)]
    no_checkpoint = f"Checkpoint {missing}: no such file or directory."
    video = str(tmp_path / "video.mp4")
    out = ["--output-dir", str(tmp_path)]
    return {
        "run_net": (no_split, 1, f"{empty}/train.csv: split file not found"),
        "train_net": (no_split, 1, f"{empty}/train.csv: split file not found"),
        "test_net": ([*run, "TEST.CHECKPOINT_FILE_PATH", str(missing)], 1, no_checkpoint),
        "check_dataset": (no_split, 2, f"{empty}/train.csv: split file not found"),
        "benchmark": (no_split, 1, f"{empty}/train.csv: split file not found"),
        "predict": (["--cfg", DEMO_CFG, "--checkpoint", str(missing), video], 1, no_checkpoint),
        "extract_features": (
            ["--cfg", DEMO_CFG, "--checkpoint", str(missing), *out],
            1,
            no_checkpoint,
        ),
        "visualize_attention": (
            ["--cfg", DEMO_CFG, "--checkpoint", str(missing), *out, video],
            1,
            no_checkpoint,
        ),
        "export": (
            ["--cfg", DEMO_CFG, "--checkpoint", str(missing), "--output", str(tmp_path / "m.pt")],
            1,
            no_checkpoint,
        ),
        "convert_checkpoint": (
            [str(missing), str(tmp_path / "hf")],
            1,
            f"{missing}: no config.json beside the weights; a Hugging Face checkpoint needs one.",
        ),
        "demo": (
            ["--data-dir", str(tmp_path / "demo_data"), "--output-dir", str(a_file / "demo")]
            + ["--train-clips-per-class", "1", "--test-clips-per-class", "2"],
            1,
            f"OUTPUT_DIR {a_file}/demo/divided_space_time cannot be created or written: Not a "
            "directory.",
        ),
        "submit": (
            ["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job"), "--resume-from", str(missing)],
            2,
            f"--resume-from {missing}: no such file.",
        ),
        "model_stats": (
            ["--cfg", DEMO_CFG, "DATA.NUM_FRAMES", "0"],
            2,
            "DATA.NUM_FRAMES is 0; expected 1 or more.",
        ),
        "benchmark_model": (
            ["--embed-dim", "40", "--heads", "3"],
            2,
            "--embed-dim 40 is not a multiple of --heads 3: each head takes embed_dim / heads "
            "channels.",
        ),
    }


@pytest.mark.parametrize("tool", sorted(MAINS))
def test_an_error_a_user_can_act_on_is_one_line_with_its_exit_status(tool, tmp_path, capsys):
    argv, exit_status, message = _bad_inputs(tmp_path)[tool]
    status, lines = _run(tool, argv, capsys)
    assert status == exit_status
    assert lines == [f"{os.path.basename(sys.argv[0])}: error: {message}"]
