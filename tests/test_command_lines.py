"""Every entry point that takes a config stops a mistake in it with one line ``TOOL: error: ...``
naming the key (exit status 2, no traceback) before any work: a misspelled override, a value of
the wrong type, and an option written after the KEY VALUE overrides (or after the VIDEO paths)."""

import pytest

from helpers import DEMO_CFG, run_net
from timesformer.cli import (
    benchmark,
    check_dataset,
    demo,
    export,
    extract_features,
    model_stats,
    predict,
    submit,
    visualize_attention,
)
from timesformer.engine import tester, trainer
from timesformer.engine.launch import run_command_line


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
    "train_net": lambda argv: run_command_line(argv, trainer.train, "Train."),
    "test_net": lambda argv: run_command_line(argv, tester.test, "Test.", trains=False),
    "check_dataset": check_dataset.main,
    "predict": predict.main,
    "extract_features": extract_features.main,
    "visualize_attention": visualize_attention.main,
    "model_stats": model_stats.main,
    "export": export.main,
    "benchmark": benchmark.main,
    "demo": demo.main,
    "submit": submit.main,
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
