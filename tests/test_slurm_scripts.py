"""slurm_scripts/*.sh: syntax, and the command line each node runs, under a fake Slurm.

Stub ``srun`` and ``scontrol`` executables on PATH stand in for Slurm: ``srun``
runs its command once per node with that node's SLURM_NODEID, ``scontrol``
answers ``show hostnames`` and records ``requeue``. The interpreter (PYTHON) is a
stub that records its arguments, which are then parsed with run_net's own parser.
"""

import os
import signal
import subprocess
import time

import pytest

from timesformer.utils.parser import parse_args

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = (
    "slurm_scripts/run_single_node_job.sh",
    "slurm_scripts/run_multi_node_job.sh",
    "slurm_scripts/run_multi_node_torchrun.sh",
)
CONFIG = "configs/Kinetics/TimeSformer_divST_8x32_224.yaml"
JOB_ID = 4242

SRUN = """#!/bin/bash
printf '%s\\n' "$*" >> "$STUB_LOG/srun.calls"
while [[ $1 == --* ]]; do shift; done
for ((node = 0; node < SLURM_JOB_NUM_NODES; node++)); do
    SLURM_NODEID=$node SLURM_PROCID=$node "$@" || exit $?
done
"""
SCONTROL = """#!/bin/bash
printf '%s\\n' "$*" >> "$STUB_LOG/scontrol.calls"
if [[ $1 == show && $2 == hostnames ]]; then printf 'gpu07\\ngpu08\\ngpu09\\n'; fi
"""
PYTHON = """#!/bin/bash
printf '%s\\0' "$@" > "$STUB_LOG/node_${SLURM_NODEID}.args"
if [[ -n ${STUB_SLEEP:-} ]]; then sleep "$STUB_SLEEP"; fi
"""


def _write_executable(path: str, text: str) -> None:
    with open(path, "w") as stream:
        stream.write(text)
    os.chmod(path, 0o755)


@pytest.fixture
def fake_slurm(tmp_path):
    """Environment of a job with stub srun/scontrol/python; returns (env, log folder)."""
    bin_dir, log_dir = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log_dir.mkdir()
    _write_executable(str(bin_dir / "srun"), SRUN)
    _write_executable(str(bin_dir / "scontrol"), SCONTROL)
    _write_executable(str(bin_dir / "python-stub"), PYTHON)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLURM_", "CUDA_VISIBLE"))
    }
    env.update(
        PATH=f"{bin_dir}:{env['PATH']}",
        PYTHON=str(bin_dir / "python-stub"),
        STUB_LOG=str(log_dir),
        OUTPUT_ROOT=str(tmp_path / "output"),
        SLURM_JOB_ID=str(JOB_ID),
        SLURM_JOB_NAME="timesformer",
        SLURM_JOB_NODELIST="gpu[07-09]",
        SLURM_SUBMIT_DIR=REPO_ROOT,
        SLURM_GPUS_ON_NODE="8",
        SLURM_CPUS_PER_TASK="80",
    )
    return env, log_dir


def _run(
    script: str, env: dict, num_nodes: int, *args: str, cwd: str = "/"
) -> subprocess.CompletedProcess:
    env = dict(env, SLURM_JOB_NUM_NODES=str(num_nodes))
    return subprocess.run(
        ["bash", os.path.join(REPO_ROOT, script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _node_argv(log_dir, node: int) -> list[str]:
    return (log_dir / f"node_{node}.args").read_text().split("\0")[:-1]


@pytest.mark.parametrize("script", SCRIPTS)
def test_bash_syntax(script):
    subprocess.run(["bash", "-n", os.path.join(REPO_ROOT, script)], check=True)


@pytest.mark.parametrize("script", SCRIPTS)
def test_headers_request_one_task_per_node_with_gpus(script):
    with open(os.path.join(REPO_ROOT, script)) as stream:
        headers = [line.split(None, 1)[1].strip() for line in stream if line.startswith("#SBATCH")]
    for flag in (
        "--ntasks-per-node=1",
        "--gres=gpu:8",
        "--requeue",
        "--open-mode=append",
        "--signal=B:USR1@180",
    ):
        assert flag in headers
    for option in (
        "--job-name",
        "--nodes",
        "--cpus-per-task",
        "--mem",
        "--time",
        "--partition",
        "--output",
        "--error",
    ):
        assert any(header.startswith(option + "=") for header in headers), option
    assert any(header.startswith("--output=") and "%j" in header for header in headers)


def test_multi_node_launches_run_net_once_per_node(fake_slurm, tmp_path):
    env, log_dir = fake_slurm
    result = _run(
        SCRIPTS[1], env, 3, CONFIG, "DATA.PATH_TO_DATA_DIR", "/data/k400", "TRAIN.BATCH_SIZE", "4"
    )
    assert result.returncode == 0, result.stderr
    output_dir = str(tmp_path / "output" / f"timesformer_{JOB_ID}")
    port = 20000 + JOB_ID % 20000
    for node in range(3):
        argv = _node_argv(log_dir, node)
        assert argv[0] == "tools/run_net.py"
        args = parse_args(argv[1:])
        assert (args.shard_id, args.num_shards) == (node, 3)
        assert args.init_method == f"tcp://gpu07:{port}"
        assert args.cfg_file == CONFIG
        assert args.opts == [
            "NUM_GPUS",
            "8",
            "OUTPUT_DIR",
            output_dir,
            "DATA.PATH_TO_DATA_DIR",
            "/data/k400",
            "TRAIN.BATCH_SIZE",
            "4",
        ]
    assert not (log_dir / "node_3.args").exists()
    assert os.path.isdir(output_dir)
    srun_flags = (log_dir / "srun.calls").read_text().split(" bash ")[0].split()
    assert srun_flags == ["--kill-on-bad-exit=1", "--ntasks-per-node=1", "--cpus-per-task=80"]
    assert "show hostnames gpu[07-09]" in (log_dir / "scontrol.calls").read_text()


def test_torchrun_script_runs_one_torchrun_per_node(fake_slurm, tmp_path):
    """Each node's task is torchrun over run_net.py: the job's node count, a process per GPU,
    the c10d rendezvous on the first node, the job id as the rendezvous id."""
    env, log_dir = fake_slurm
    env = dict(env, MAX_RESTARTS="2")
    result = _run(SCRIPTS[2], env, 3, CONFIG, "TRAIN.BATCH_SIZE", "4")
    assert result.returncode == 0, result.stderr
    output_dir = str(tmp_path / "output" / f"timesformer_{JOB_ID}")
    port = 20000 + JOB_ID % 20000
    for node in range(3):
        argv = _node_argv(log_dir, node)
        run_net = argv.index("tools/run_net.py")
        assert argv[:run_net] == [
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "3",
            "--nproc_per_node",
            "8",
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            f"gpu07:{port}",
            "--rdzv-id",
            str(JOB_ID),
            "--max-restarts",
            "2",
        ]
        args = parse_args(argv[run_net + 1 :])
        assert args.cfg_file == CONFIG and args.shard_id is None  # torchrun gives the ranks
        assert args.opts == ["NUM_GPUS", "8", "OUTPUT_DIR", output_dir, "TRAIN.BATCH_SIZE", "4"]
    assert os.path.isdir(output_dir)


def test_torchrun_script_on_cpu_nodes_runs_cpu_processes(fake_slurm):
    env, log_dir = fake_slurm
    env = dict(env, GPUS_PER_NODE="0", PROCS_PER_NODE="2")
    result = _run(SCRIPTS[2], env, 2, CONFIG)
    assert result.returncode == 0, result.stderr
    argv = _node_argv(log_dir, 1)
    assert argv[argv.index("--nproc_per_node") + 1] == "2"
    assert argv[argv.index("NUM_GPUS") + 1] == "0"


def test_single_node_runs_shard_zero_from_the_submit_dir(fake_slurm):
    env, log_dir = fake_slurm
    env = dict(env, GPUS_PER_NODE="4", MASTER_PORT="31000")
    result = _run(SCRIPTS[0], env, 1, CONFIG, "OUTPUT_DIR", "/tmp/mine")
    assert result.returncode == 0, result.stderr
    args = parse_args(_node_argv(log_dir, 0)[1:])
    assert (args.shard_id, args.num_shards, args.init_method) == (0, 1, "tcp://gpu07:31000")
    # The user's OUTPUT_DIR comes after the script's, so it wins.
    assert args.opts[:2] == ["NUM_GPUS", "4"] and args.opts[-2:] == ["OUTPUT_DIR", "/tmp/mine"]
    assert not (log_dir / "node_1.args").exists()


def test_single_node_refuses_several_nodes(fake_slurm):
    env, log_dir = fake_slurm
    result = _run(SCRIPTS[0], env, 2, CONFIG)
    assert result.returncode == 2
    assert "run_multi_node_job.sh" in result.stderr
    assert not (log_dir / "srun.calls").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "usage"),
        (("configs/missing.yaml",), "configs/missing.yaml not found"),
        ((CONFIG, "DATA.PATH_TO_DATA_DIR"), "KEY VALUE pairs"),
    ],
)
def test_bad_arguments_fail_before_launching(fake_slurm, args, message):
    env, log_dir = fake_slurm
    result = _run(SCRIPTS[1], env, 2, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (log_dir / "srun.calls").exists()


def test_no_gpu_count_is_an_error(fake_slurm):
    env, log_dir = fake_slurm
    del env["SLURM_GPUS_ON_NODE"]
    result = _run(SCRIPTS[1], env, 2, CONFIG)
    assert result.returncode == 2 and "GPUS_PER_NODE" in result.stderr


def test_requeues_itself_on_the_time_limit_signal(fake_slurm):
    env, log_dir = fake_slurm
    env = dict(env, STUB_SLEEP="1")
    process = subprocess.Popen(
        ["bash", os.path.join(REPO_ROOT, SCRIPTS[1]), CONFIG],
        env=dict(env, SLURM_JOB_NUM_NODES="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 20
    while not (log_dir / "node_0.args").exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGUSR1)
    _, stderr = process.communicate(timeout=30)
    assert f"requeue {JOB_ID}" in (log_dir / "scontrol.calls").read_text()
    assert "requeuing" in stderr
    # The script waited for srun to end instead of exiting on the signal.
    assert process.returncode == 0
