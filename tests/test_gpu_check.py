"""tools/gpu_check.sh: the prepared GPU check parses, and --dry-run lists its steps without
running any (the check itself needs a GPU; see docs/performance.md, "On a GPU")."""

import os
import subprocess

from helpers import REPO_ROOT
from timesformer.cli import benchmark

SCRIPT = os.path.join(REPO_ROOT, "tools", "gpu_check.sh")


def test_script_parses():
    subprocess.run(["bash", "-n", SCRIPT], check=True)


def dry_run(report) -> str:
    """What ``tools/gpu_check.sh --dry-run`` prints with ``OUT=report``."""
    return subprocess.run(
        ["bash", SCRIPT, "--dry-run"],
        env=dict(os.environ, OUT=str(report)),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout


def test_dry_run_lists_every_step_and_writes_nothing(tmp_path):
    report = tmp_path / "report"
    output = dry_run(report)
    steps = [line.split()[0] for line in output.splitlines()[1:]]
    assert steps == [
        "env",
        "cuda_tests",
        "bench_divided_bf16",
        "bench_large_96x224",
        "bench_divided_vs_fp32",
        "bench_joint_bf16",
        "bench_divided_compiled",
        "loader",
    ]
    assert f"report to {report}" in output
    assert "-m cuda tests/test_cuda.py" in output
    assert "--activation-checkpointing" in output and "--compile" in output
    assert not report.exists()


def test_unknown_option_is_refused():
    result = subprocess.run(["bash", SCRIPT, "--bogus"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "usage: tools/gpu_check.sh" in result.stderr


def test_loader_step_is_a_command_line_benchmark_py_takes(tmp_path):
    """The loader step reads the GPU's clips/s from the first benchmark step's JSON and writes
    loader.json, which the summary reads."""
    line = next(line for line in dry_run(tmp_path).splitlines() if line.split()[0] == "loader")
    words = line.split()
    _, args = benchmark.parse_args(words[words.index("tools/benchmark.py") + 1 :])
    assert args.synthetic and args.no_long_video and args.clips_per_video == [1, 2]
    assert args.gpu_clips_per_s_from == str(tmp_path / "bench_divided_bf16.json")
    assert args.json == str(tmp_path / "loader.json")
    assert args.opts[:2] == ["NUM_GPUS", "0"] and "DATA_LOADER.NUM_WORKERS" in args.opts
