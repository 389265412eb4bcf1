"""The Slurm paths on a real two-node Slurm cluster: the sbatch scripts and tools/submit.py train
and test tiny CPU models, and both requeue paths resume from the last checkpoint.

Run by ``make test-slurm`` (tests/slurm/run.sh), which starts the cluster of
tests/slurm/cluster.sh (nodes n1 and n2, one CPU each, partition ``debug``) and sets
TIMESFORMER_SLURM_TESTS=1 and SLURM_CONF; skipped otherwise (``make test`` needs no Slurm).
The tests run in file order; each waits for its jobs with a bound, and a job that fails or
runs out of time fails the test with the job's error file in the message.
"""

import os
import re
import subprocess
import sys
import time

import pytest

from helpers import REPO_ROOT, TINY_RUN, json_stats, write_color_dataset

pytestmark = pytest.mark.skipif(
    os.environ.get("TIMESFORMER_SLURM_TESTS") != "1",
    reason="needs the two-node test cluster: run `make test-slurm` as root",
)

DEMO_CFG = "configs/Demo/TimeSformer_divST_tiny.yaml"
SINGLE_NODE = "slurm_scripts/run_single_node_job.sh"
MULTI_NODE = "slurm_scripts/run_multi_node_job.sh"
TORCHRUN_MULTI_NODE = "slurm_scripts/run_multi_node_torchrun.sh"
# Bound of each wait: for a job to end, or to start again once requeued (after the job
# credential's lifetime, 30 s on the test cluster).
JOB_TIMEOUT_S = 300
FINAL_STATES = {
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
}
ERROR_LINES = 80

# The tiny CPU run of the unit tests (2 epochs, a checkpoint each), without TensorBoard.
TINY = TINY_RUN + ["TENSORBOARD.ENABLE", "False"]
# Each node's batch is TRAIN.BATCH_SIZE; two nodes take 8 clips per iteration.
TWO_NODES = ["GLOBAL_BATCH_SIZE", "8"]
# Long enough epochs (the training list repeated) that a requeue signal sent when the
# second checkpoint appears lands in a later epoch, before training ends.
SLOW = ["SOLVER.MAX_EPOCH", "4"]
TRAIN_LIST_REPEATS = 6


def slurm(*command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a Slurm client command (sbatch, scontrol, scancel) with a bound."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result


def job_info(job_id: str) -> dict[str, str]:
    """``scontrol show job``'s fields of a job (JobState, ExitCode, Restarts, NodeList, StdErr,
    ...)."""
    text = slurm("scontrol", "show", "job", "--oneliner", job_id).stdout
    return dict(re.findall(r"(\w+)=(\S*)", text))


def tail(path: str, lines: int = ERROR_LINES) -> str:
    if not os.path.isfile(path):
        return f"--- {path}: no such file"
    with open(path, errors="replace") as stream:
        return f"--- last lines of {path}:\n" + "".join(stream.readlines()[-lines:])


def job_failure(job_id: str, info: dict, why: str, logs: tuple[str, ...]) -> AssertionError:
    """The error of a job that failed or hung: its state and the end of its error file(s)."""
    state = ", ".join(f"{key} {info.get(key)}" for key in ("JobState", "Reason", "ExitCode"))
    files = [info.get("StdErr", ""), *logs]
    return AssertionError(
        "\n".join([f"job {job_id} {why} ({state})"] + [tail(path) for path in files if path])
    )


def wait_for_job(job_id: str, timeout_s: float = JOB_TIMEOUT_S, logs: tuple[str, ...] = ()) -> dict:
    """Wait until the job ends; its fields when it COMPLETED, else fail with its error file
    (and ``logs``)."""
    deadline = time.time() + timeout_s
    while (info := job_info(job_id)).get("JobState") not in FINAL_STATES:
        if time.time() > deadline:
            slurm("scancel", job_id, check=False)
            raise job_failure(job_id, info, f"did not end within {timeout_s:.0f}s", logs)
        time.sleep(1)
    if info["JobState"] != "COMPLETED" or info.get("ExitCode") != "0:0":
        raise job_failure(job_id, info, "failed", logs)
    return info


def wait_for_file(path, job_id: str, logs: tuple[str, ...] = ()) -> None:
    """Wait (JOB_TIMEOUT_S at most) until the running job has written ``path``."""
    deadline = time.time() + JOB_TIMEOUT_S
    while not os.path.exists(path):
        info = job_info(job_id)
        if info.get("JobState") in FINAL_STATES or time.time() > deadline:
            slurm("scancel", job_id, check=False)
            raise job_failure(job_id, info, f"never wrote {path}", logs)
        time.sleep(0.2)


def wait_for_restart(job_id: str, logs: tuple[str, ...] = ()) -> None:
    """Wait until the job, requeued, runs again: its first run has ended (Slurm starts the
    requeued job once every process of the first is gone), the second has written nothing yet
    (it needs seconds to start Python, and an epoch)."""
    deadline = time.time() + JOB_TIMEOUT_S
    while True:
        info = job_info(job_id)
        if info.get("JobState") == "RUNNING" and int(info.get("Restarts", 0)) >= 1:
            return
        if info.get("JobState") in FINAL_STATES or time.time() > deadline:
            raise job_failure(job_id, info, "was not requeued and restarted", logs)
        time.sleep(0.2)


@pytest.fixture
def jobs():
    """The ids of the jobs a test submits; those still queued or running are cancelled after it."""
    submitted = []
    yield submitted
    for job_id in submitted:
        slurm("scancel", job_id, check=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    """16 tiny videos, the label their color."""
    return write_color_dataset(str(tmp_path_factory.mktemp("data")), videos_per_class=8)


@pytest.fixture(scope="module")
def slow_data(data, tmp_path_factory) -> str:
    """The same videos, the training list repeated TRAIN_LIST_REPEATS times."""
    folder = tmp_path_factory.mktemp("slow_data")
    with open(os.path.join(data, "train.csv")) as stream:
        lines = stream.read()
    (folder / "train.csv").write_text(lines * TRAIN_LIST_REPEATS)
    for split in ("val", "test"):
        (folder / f"{split}.csv").write_text(lines)
    return str(folder)


def sbatch(script: str, tmp_path, name: str, *args: str, nodes: int = 1) -> str:
    """Submit a slurm_scripts/ script as a new user would on CPU nodes; returns the job id.

    The script's GPU, CPU and memory requests are overridden on the command line; the job
    writes OUTPUT_ROOT/NAME_JOBID and its .out/.err files into ``tmp_path``.
    """
    env = dict(os.environ, GPUS_PER_NODE="0", PYTHON=sys.executable, OUTPUT_ROOT=str(tmp_path))
    result = slurm(
        "sbatch",
        "--parsable",
        f"--job-name={name}",
        f"--nodes={nodes}",
        "--gres=none",
        "--cpus-per-task=1",
        "--mem=1G",
        "--time=20",
        "--partition=debug",
        f"--output={tmp_path}/%x_%j.out",
        f"--error={tmp_path}/%x_%j.err",
        script,
        DEMO_CFG,
        *args,
        cwd=REPO_ROOT,
        env=env,
    )
    return result.stdout.strip().split(";")[0]


def submit(job_dir, *args: str, num_shards: int = 2) -> str:
    """``tools/submit.py --cluster slurm`` on CPU nodes; returns the job id it printed."""
    command = [
        sys.executable,
        "tools/submit.py",
        "--cfg",
        DEMO_CFG,
        "--job_dir",
        str(job_dir),
        "--num_shards",
        str(num_shards),
        "--num_gpus",
        "0",
        "--cpus_per_task",
        "1",
        "--mem_gb",
        "4",
        "--partition",
        "debug",
        "--timeout",
        "20",
        "--cluster",
        "slurm",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"{num_shards} node(s) x 0 GPU(s), 1 CPU(s) and 4 GB per node." in result.stdout
    return re.search(r"Submitted job (\d+) \(slurm\)", result.stdout).group(1)


def submitit_logs(job_dir, job_id: str, num_tasks: int) -> tuple[str, ...]:
    """The stderr and stdout files of each task of a submitit job."""
    folder = os.path.join(job_dir, "submitit", job_id)
    return tuple(
        os.path.join(folder, f"{job_id}_{task}_log.{ext}")
        for task in range(num_tasks)
        for ext in ("err", "out")
    )


def read(path: str) -> str:
    with open(path) as stream:
        return stream.read()


def checkpoint_names(output_dir) -> list[str]:
    return sorted(os.listdir(os.path.join(output_dir, "checkpoints")))


def assert_trained_and_tested(output_dir, epochs: int, videos: int) -> list[dict]:
    """Every epoch trained (once at least), one checkpoint each, then a test of every video."""
    records = json_stats(str(output_dir))
    trained = sorted({r["epoch"] for r in records if r["split"] == "train_epoch"})
    assert trained == sorted(f"{epoch}/{epochs}" for epoch in range(1, epochs + 1))
    assert checkpoint_names(output_dir) == [
        f"checkpoint_epoch_{epoch:05d}.pyth" for epoch in range(1, epochs + 1)
    ]
    final = records[-1]
    assert final["split"] == "test_final", final
    assert final["videos"] == videos and "top1_acc" in final and "top5_acc" in final, final
    return records


def assert_resumed(output_dir, checkpoints_before: list[str], epochs: int) -> None:
    """The requeued run resumed from the last checkpoint of its first run, and did not train the
    epochs before it again."""
    last = checkpoints_before[-1]
    done = int(last[len("checkpoint_epoch_") : -len(".pyth")])
    assert 2 <= done < epochs, checkpoints_before
    log = read(os.path.join(output_dir, "stdout.log"))
    resumed = re.findall(r"Resumed from (\S+) \(epoch (\d+) done\)", log)
    assert resumed == [(os.path.join(str(output_dir), "checkpoints", last), str(done))]
    records = json_stats(str(output_dir))
    trained = [r["epoch"] for r in records if r["split"] == "train_epoch"]
    for epoch in range(1, done + 1):
        assert trained.count(f"{epoch}/{epochs}") == 1, trained


# ---------------------------------------------------------------------------- #
# slurm_scripts/*.sh
# ---------------------------------------------------------------------------- #


def test_single_node_script_trains_and_tests(data, tmp_path, jobs):
    jobs.append(sbatch(SINGLE_NODE, tmp_path, "single", *TINY, "DATA.PATH_TO_DATA_DIR", data))
    info = wait_for_job(jobs[-1])
    output_dir = tmp_path / f"single_{jobs[-1]}"
    assert_trained_and_tested(output_dir, epochs=2, videos=16)
    assert "Resumed from" not in read(output_dir / "stdout.log")
    assert f"Job {jobs[-1]}: 1 node(s) x 0 GPU(s)" in read(info["StdOut"])


def test_time_limit_signal_requeues_and_resumes(slow_data, tmp_path, jobs):
    """``scancel -b -s USR1`` is what ``--signal=B:USR1@180`` sends before the time limit: the
    script requeues the job, which resumes under the same id from its last checkpoint."""
    args = [*TINY, *SLOW, "DATA.PATH_TO_DATA_DIR", slow_data]
    jobs.append(sbatch(SINGLE_NODE, tmp_path, "requeue", *args))
    output_dir = tmp_path / f"requeue_{jobs[-1]}"
    wait_for_file(output_dir / "checkpoints" / "checkpoint_epoch_00002.pyth", jobs[-1])
    slurm("scancel", "--batch", "--signal=USR1", jobs[-1])
    wait_for_restart(jobs[-1])
    checkpoints_before = checkpoint_names(output_dir)
    info = wait_for_job(jobs[-1])
    assert int(info["Restarts"]) == 1
    assert "near its time limit; requeuing it" in read(info["StdErr"])
    assert_trained_and_tested(output_dir, epochs=4, videos=16)
    assert_resumed(output_dir, checkpoints_before, epochs=4)


@pytest.mark.parametrize("run", [1, 2, 3])
def test_two_node_script_trains_and_tests(data, tmp_path, jobs, run):
    """Three runs in a row: training and testing share one process group, so the nodes cannot
    race from one rendezvous into the next."""
    args = [*TINY, *TWO_NODES, "DATA.PATH_TO_DATA_DIR", data]
    jobs.append(sbatch(MULTI_NODE, tmp_path, f"two_nodes{run}", *args, nodes=2))
    info = wait_for_job(jobs[-1])
    assert info["NodeList"] == "n[1-2]" and info["NumNodes"] == "2"
    output_dir = tmp_path / f"two_nodes{run}_{jobs[-1]}"
    assert_trained_and_tested(output_dir, epochs=2, videos=16)
    log = read(output_dir / "stdout.log")
    assert "Effective batch: 8 samples per optimizer step (8 per iteration" in log
    assert f"Job {jobs[-1]}: 2 node(s) x 0 GPU(s), rendezvous tcp://n1:" in read(info["StdOut"])


def test_two_node_torchrun_script_trains_and_tests(data, tmp_path, jobs):
    """srun runs one torchrun per node; the nodes meet through torchrun's c10d rendezvous on n1
    and train then test as one job."""
    args = [*TINY, *TWO_NODES, "DATA.PATH_TO_DATA_DIR", data]
    jobs.append(sbatch(TORCHRUN_MULTI_NODE, tmp_path, "torchrun", *args, nodes=2))
    info = wait_for_job(jobs[-1])
    assert info["NodeList"] == "n[1-2]" and info["NumNodes"] == "2"
    output_dir = tmp_path / f"torchrun_{jobs[-1]}"
    assert_trained_and_tested(output_dir, epochs=2, videos=16)
    log = read(output_dir / "stdout.log")
    assert "Effective batch: 8 samples per optimizer step (8 per iteration" in log
    assert (
        f"Job {jobs[-1]}: 2 node(s) x 1 torchrun process(es) (NUM_GPUS 0), c10d rendezvous n1:"
    ) in read(info["StdOut"])


# ---------------------------------------------------------------------------- #
# tools/submit.py --cluster slurm (submitit)
# ---------------------------------------------------------------------------- #


def test_submitit_two_node_job_trains_and_tests(data, tmp_path, jobs):
    job_dir = tmp_path / "job"
    jobs.append(submit(job_dir, *TINY, *TWO_NODES, "DATA.PATH_TO_DATA_DIR", data))
    logs = submitit_logs(job_dir, jobs[-1], num_tasks=2)
    info = wait_for_job(jobs[-1], logs=logs)
    assert info["NodeList"] == "n[1-2]"
    assert_trained_and_tested(job_dir, epochs=2, videos=16)
    assert "Effective batch: 8 samples per optimizer step" in read(job_dir / "stdout.log")
    for shard, out_log in enumerate(logs[1::2]):
        assert re.search(rf"shard {shard} of 2, rendezvous tcp://n1:\d+", read(out_log))


def test_submitit_preemption_requeues_and_resumes(slow_data, tmp_path, jobs):
    """USR2 is the signal submitit takes as "preempted or near the time limit": it calls
    NodeJob.checkpoint and requeues the job, which resumes from the last checkpoint."""
    job_dir = tmp_path / "job"
    jobs.append(submit(job_dir, *TINY, *TWO_NODES, *SLOW, "DATA.PATH_TO_DATA_DIR", slow_data))
    logs = submitit_logs(job_dir, jobs[-1], num_tasks=2)
    wait_for_file(job_dir / "checkpoints" / "checkpoint_epoch_00002.pyth", jobs[-1], logs)
    slurm("scancel", "--signal=USR2", jobs[-1])
    wait_for_restart(jobs[-1], logs)
    checkpoints_before = checkpoint_names(job_dir)
    info = wait_for_job(jobs[-1], logs=logs)
    assert int(info["Restarts"]) == 1
    assert_trained_and_tested(job_dir, epochs=4, videos=16)
    assert_resumed(job_dir, checkpoints_before, epochs=4)
    task0 = read(logs[1]) + read(logs[0])
    assert "Requeuing" in task0 and f"Requeued job {jobs[-1]}" in task0
    assert "NUM_SHARDS: 2" in read(job_dir / "config.yaml")
