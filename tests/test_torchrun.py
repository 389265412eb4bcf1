"""Processes a launcher starts as ranks of one job: torchrun (one machine, two "machines" on
localhost, an elastic restart after kill -9), the PyTorchJob environment, and the launcher's
variables half set, at odds with the command line, or meeting nobody."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch

from helpers import REPO_ROOT, json_stats, tiny_args, write_color_dataset
from timesformer.checkpoint.training_state import get_path_to_checkpoint, list_checkpoints
from timesformer.config import ConfigError, get_cfg
from timesformer.utils.launcher_environment import (
    apply_launcher_environment,
    launcher_environment,
)

RUN_NET = os.path.join(REPO_ROOT, "tools", "run_net.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK")
TWO_EPOCHS = ("NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "4", "SOLVER.MAX_EPOCH", "2")
"""The reference's shape: 2 processes of 2 clips per iteration, 2 epochs."""
ONE_PROCESS_PER_MACHINE = ("TRAIN.BATCH_SIZE", "2", "SOLVER.MAX_EPOCH", "2")
"""The same job as two machines of one process (TRAIN.BATCH_SIZE is per machine)."""


@pytest.fixture(scope="module")
def color_data(tmp_path_factory):
    return write_color_dataset(str(tmp_path_factory.mktemp("data")))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_environment(**variables: str) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in (*LAUNCHER_VARIABLES, "MASTER_ADDR", "MASTER_PORT")
        and not key.startswith("TORCHELASTIC")
    }
    # torchrun gives each process one thread; so does every run here, so that their float
    # reductions, hence their weights, can be compared bit for bit.
    environ["OMP_NUM_THREADS"] = "1"
    environ.update(variables)
    return environ


def _run(argv: list[str], timeout: float = 240, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv,
        env=_clean_environment(**variables),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _final_weights(output_dir: str, epoch: int = 1) -> dict[str, torch.Tensor]:
    path = get_path_to_checkpoint(output_dir, epoch)
    return torch.load(path, map_location="cpu", weights_only=True)["model_state"]


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.fixture(scope="module")
def spawned_run(color_data, tmp_path_factory):
    """The reference: NUM_PROCS 2 spawned by run_net.py itself, 2 epochs."""
    out = str(tmp_path_factory.mktemp("spawned"))
    argv = [sys.executable, RUN_NET, "--init_method", f"tcp://127.0.0.1:{_free_port()}"]
    done = _run(argv + tiny_args(color_data, out, *TWO_EPOCHS))
    assert done.returncode == 0, done.stderr[-2000:]
    return out


# ---------------------------------------------------------------------------- #
# The environment
# ---------------------------------------------------------------------------- #


def test_no_launcher_variables_is_a_plain_command():
    assert launcher_environment({"PATH": "/bin"}) is None


def test_torchruns_variables_give_the_jobs_shape():
    env = launcher_environment(
        {
            "RANK": "3",
            "WORLD_SIZE": "4",
            "LOCAL_RANK": "1",
            "LOCAL_WORLD_SIZE": "2",
            "GROUP_RANK": "1",
            "MASTER_ADDR": "node0",
            "MASTER_PORT": "29500",
            "TORCHELASTIC_RESTART_COUNT": "1",
            "TORCHELASTIC_USE_AGENT_STORE": "True",
        }
    )
    assert env is not None
    assert (env.num_nodes, env.node_rank, env.local_rank, env.restart_count) == (2, 1, 1, 1)
    assert env.agent_store and env.endpoint == "node0:29500"
    cfg = get_cfg()  # NUM_GPUS 1, NUM_SHARDS 1: the YAML's shape gives way
    changes = apply_launcher_environment(cfg, env, explicit=set())
    assert (cfg.NUM_GPUS, cfg.NUM_SHARDS, cfg.SHARD_ID) == (2, 2, 1)
    assert changes == ["NUM_GPUS 1 -> 2", "NUM_SHARDS 1 -> 2", "SHARD_ID 0 -> 1"]


def test_a_pytorchjobs_variables_are_one_process_per_pod():
    env = launcher_environment(
        {"RANK": "1", "WORLD_SIZE": "3", "MASTER_ADDR": "job-master-0", "MASTER_PORT": "23456"}
    )
    assert env is not None
    assert (env.local_rank, env.local_world_size, env.node_rank, env.num_nodes) == (0, 1, 1, 3)
    assert not env.agent_store


def test_half_set_variables_name_what_is_missing():
    with pytest.raises(
        ConfigError, match=r"\(RANK, WORLD_SIZE set\) but MASTER_ADDR, MASTER_PORT are not set"
    ):
        launcher_environment({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(ConfigError, match="LOCAL_RANK is 'one'; expected a whole number"):
        launcher_environment(
            {
                "LOCAL_RANK": "one",
                "RANK": "0",
                "WORLD_SIZE": "1",
                "MASTER_ADDR": "a",
                "MASTER_PORT": "1",
            }
        )
    with pytest.raises(ConfigError, match="inconsistent: RANK 2 of WORLD_SIZE 2"):
        launcher_environment(
            {"RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "a", "MASTER_PORT": "1"}
        )


def test_a_command_line_at_odds_with_the_launcher_names_both(color_data, tmp_path):
    argv = [*TORCHRUN, "--standalone", "--nproc_per_node", "2", RUN_NET]
    done = _run(argv + tiny_args(color_data, str(tmp_path), *TWO_EPOCHS, "NUM_SHARDS", "2"))
    assert done.returncode != 0
    assert (
        "run_net.py: error: NUM_SHARDS 2 was given on the command line, but the launcher started "
        "this process as rank 0 of 2 (machine 0 of 1, process 0 of 2 on it), which makes "
        "NUM_SHARDS 1; drop NUM_SHARDS (the launcher's counts are used) or launch 2 machine(s) "
        "(torchrun --nnodes 2)."
    ) in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr.split("torch/distributed")[0]


# ---------------------------------------------------------------------------- #
# Jobs
# ---------------------------------------------------------------------------- #


def test_torchrun_trains_and_tests_as_num_procs_does(color_data, spawned_run, tmp_path):
    """torchrun --standalone --nproc_per_node 2: each process one rank; the same final weights
    as NUM_PROCS 2 (same seed, no loader workers), then the test."""
    out = str(tmp_path / "torchrun")
    argv = [*TORCHRUN, "--standalone", "--nproc_per_node", "2", RUN_NET]
    done = _run(argv + tiny_args(color_data, out, *TWO_EPOCHS))
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_same(_final_weights(out), _final_weights(spawned_run))
    assert [r["split"] for r in json_stats(out)].count("test_final") == 1


def test_two_torchrun_launchers_are_one_job(color_data, spawned_run, tmp_path):
    """Two launchers on localhost as two machines (--nnodes 2, c10d rendezvous), one process
    each: one job, the same weights as NUM_PROCS 2."""
    out = str(tmp_path / "two_nodes")
    port = _free_port()
    argv = [*TORCHRUN, "--nnodes", "2", "--nproc_per_node", "1", "--rdzv-backend", "c10d"]
    argv += ["--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "two-nodes", RUN_NET]
    argv += tiny_args(color_data, out, *ONE_PROCESS_PER_MACHINE)
    launchers = [
        subprocess.Popen(
            argv, env=_clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [launcher.communicate(timeout=240) for launcher in launchers]
    assert [launcher.returncode for launcher in launchers] == [0, 0], outputs[0][1][-2000:]
    _assert_same(_final_weights(out), _final_weights(spawned_run))
    assert [r["split"] for r in json_stats(out)].count("test_final") == 1


def test_pytorchjob_environment_is_one_job(color_data, spawned_run, tmp_path):
    """Two processes given only the operator's variables (RANK, WORLD_SIZE, MASTER_ADDR,
    MASTER_PORT), one per "pod": one job."""
    out = str(tmp_path / "pytorchjob")
    port = str(_free_port())
    argv = [sys.executable, RUN_NET, *tiny_args(color_data, out, *ONE_PROCESS_PER_MACHINE)]
    pods = [
        subprocess.Popen(
            argv,
            env=_clean_environment(
                RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for rank in range(2)
    ]
    outputs = [pod.communicate(timeout=240) for pod in pods]
    assert [pod.returncode for pod in pods] == [0, 0], outputs[0][1][-2000:]
    _assert_same(_final_weights(out), _final_weights(spawned_run))


def test_a_rendezvous_nobody_comes_to_ends_naming_the_endpoint(color_data, tmp_path):
    port = _free_port()
    started = time.monotonic()
    done = _run(
        [
            sys.executable,
            RUN_NET,
            *tiny_args(color_data, str(tmp_path), "DIST_RENDEZVOUS_TIMEOUT", "3"),
        ],
        timeout=60,
        RANK="1",
        WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"run_net.py: error: The job's 2 processes did not meet at MASTER_ADDR:MASTER_PORT "
        f"127.0.0.1:{port} within DIST_RENDEZVOUS_TIMEOUT 3 s"
    ), last


def _kill_a_worker_mid_epoch(launcher: subprocess.Popen, out: str) -> None:
    """kill -9 one of the launcher's workers after the first iteration of epoch 2 (of 4): the
    epoch-1 checkpoint is written, epoch 2 in progress."""
    deadline = time.monotonic() + 180
    while not list_checkpoints(out) or not any(
        r["split"] == "train_iter" and r["epoch"].startswith("2/") for r in _records(out)
    ):
        assert launcher.poll() is None, "the job ended before it could be interrupted"
        assert time.monotonic() < deadline, "epoch 2 never started"
        time.sleep(0.05)
    workers = psutil.Process(launcher.pid).children()
    os.kill(workers[-1].pid, signal.SIGKILL)


def _records(out: str) -> list[dict]:
    try:
        return json_stats(out)
    except (FileNotFoundError, ValueError):  # not written yet, or a line being written
        return []


def test_an_elastic_restart_resumes_and_ends_as_an_uninterrupted_run(color_data, tmp_path):
    """--max-restarts 1 and kill -9 of a worker in epoch 2 of 3: torchrun restarts the group,
    which resumes from the epoch-1 checkpoint, finishes, and ends with an uninterrupted run's
    weights."""
    out = str(tmp_path / "restarted")
    three_epochs = ("NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "2", "GLOBAL_BATCH_SIZE", "2")
    three_epochs += ("SOLVER.MAX_EPOCH", "3", "TEST.ENABLE", "False")
    argv = [*TORCHRUN, "--standalone", "--nproc_per_node", "2", "--max-restarts", "1", RUN_NET]
    launcher = subprocess.Popen(
        argv + tiny_args(color_data, out, *three_epochs),
        env=_clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _kill_a_worker_mid_epoch(launcher, out)
        _, stderr = launcher.communicate(timeout=240)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 0, stderr[-2000:]
    with open(os.path.join(out, "stdout.log")) as log:
        text = log.read()
    assert "Restart 1 of this job" in text and "Resumed from" in text
    reference = str(tmp_path / "reference")
    done = _run(
        [sys.executable, RUN_NET, "--init_method", f"tcp://127.0.0.1:{_free_port()}"]
        + tiny_args(color_data, reference, *three_epochs)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    _assert_same(_final_weights(out, 2), _final_weights(reference, 2))
