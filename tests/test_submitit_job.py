"""What each node of a submitit job runs (timesformer/engine/submitit_job.py): its shard and
rendezvous from the job environment, the port of a job, requeueing on preemption, and the
preemption signal left to the node's main process."""

import os
import signal

import pytest
import submitit

from helpers import DEMO_CFG
from timesformer.engine import submitit_job
from timesformer.engine.launch import train_then_test
from timesformer.engine.submitit_job import NodeJob, job_port


@pytest.fixture
def slurm_node(monkeypatch):
    """This process as node 1 of a two-node Slurm job run by submitit."""
    for key in list(os.environ):
        if key.startswith(("SLURM_", "SUBMITIT_")):
            monkeypatch.delenv(key)
    for key, value in dict(
        SUBMITIT_EXECUTOR="slurm",
        SLURM_JOB_ID="31337",
        SLURM_JOB_NODELIST="gpu[07-08]",
        SLURM_JOB_NUM_NODES="2",
        SLURM_NODEID="1",
        SLURM_NTASKS="2",
        SLURM_PROCID="1",
        SLURM_LOCALID="0",
    ).items():
        monkeypatch.setenv(key, value)


def test_node_reads_its_shard_and_rendezvous_from_the_job_environment(
    slurm_node, tmp_path, monkeypatch
):
    launches = []
    monkeypatch.setattr(
        submitit_job, "launch_job", lambda cfg, init, func: launches.append((cfg, init, func))
    )
    opts = ["OUTPUT_DIR", str(tmp_path / "job"), "NUM_GPUS", "0", "TRAIN.AUTO_RESUME", "False"]
    node_job = NodeJob(DEMO_CFG, opts)
    node_job()
    url = f"tcp://gpu07:{job_port('31337')}"
    # One launch (one rendezvous) runs both phases in the same processes.
    assert [(init, func.func) for _, init, func in launches] == [(url, train_then_test)]
    cfg = launches[0][0]
    assert (cfg.SHARD_ID, cfg.NUM_SHARDS, cfg.OUTPUT_DIR) == (1, 2, str(tmp_path / "job"))
    assert cfg.TRAIN.AUTO_RESUME is True  # forced on, so that a requeued job resumes
    assert not (tmp_path / "job" / "config.yaml").exists()  # shard 0 writes it


def test_node_refuses_several_tasks_per_node(slurm_node, monkeypatch):
    monkeypatch.setenv("SLURM_NTASKS", "16")
    with pytest.raises(RuntimeError, match="one task per node"):
        NodeJob(DEMO_CFG, []).node_args(submitit.JobEnvironment())


def test_job_port_is_stable_and_in_range():
    assert job_port("31337") == job_port("31337")
    assert len({job_port(str(i)) for i in range(50)}) > 40
    assert all(20000 <= job_port(str(i)) < 40000 for i in range(200))


def test_checkpoint_requeues_the_same_job():
    node_job = NodeJob(DEMO_CFG, ["NUM_GPUS", "0"])
    delayed = node_job.checkpoint()
    assert isinstance(delayed, submitit.helpers.DelayedSubmission)
    again = delayed.function
    assert again is not node_job and type(again) is NodeJob
    assert vars(again) == vars(node_job)


def test_spawned_workers_ignore_the_preemption_signal(monkeypatch):
    installed = {}
    monkeypatch.setattr(
        signal, "signal", lambda signum, handler: installed.setdefault(signum, handler)
    )
    here = submitit_job.MainProcessHandlesPreemption(lambda cfg: cfg + 1, main_pid=os.getpid())
    assert here(1) == 2 and installed == {}
    elsewhere = submitit_job.MainProcessHandlesPreemption(lambda cfg: cfg + 1, main_pid=-1)
    assert elsewhere(1) == 2 and installed == {signal.SIGUSR2: signal.SIG_IGN}


def test_forks_of_the_main_process_ignore_the_preemption_handler():
    calls = []
    handler = submitit_job.InMainProcessOnly(
        lambda signum, frame: calls.append(signum), main_pid=os.getpid()
    )
    handler(signal.SIGUSR2, None)
    assert calls == [signal.SIGUSR2]
    forked = submitit_job.InMainProcessOnly(lambda signum, frame: calls.append(signum), main_pid=-1)
    forked(signal.SIGUSR2, None)
    assert calls == [signal.SIGUSR2]


def test_guard_wraps_an_installed_handler_only(monkeypatch):
    previous = signal.getsignal(signal.SIGUSR2)
    try:
        signal.signal(signal.SIGUSR2, signal.SIG_DFL)
        submitit_job.guard_preemption_handler()
        assert signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL
        submitits = lambda signum, frame: None  # noqa: E731
        signal.signal(signal.SIGUSR2, submitits)
        submitit_job.guard_preemption_handler()
        guarded = signal.getsignal(signal.SIGUSR2)
        assert isinstance(guarded, submitit_job.InMainProcessOnly) and guarded.handler is submitits
    finally:
        signal.signal(signal.SIGUSR2, previous)
