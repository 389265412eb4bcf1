"""Running ``tools/run_net.py``'s flow as a submitit job, one task per machine.

:class:`NodeJob` is the callable a submission (:mod:`~timesformer.engine.submission`) hands
to submitit. Each node of the job runs it once; it reads its place in the job from
``submitit.JobEnvironment()`` (node index, number of nodes, host names), joins the
other nodes through ``tcp://FIRST_HOST:PORT`` and trains then tests as
``tools/run_net.py`` does (:func:`~timesformer.engine.launch.train_then_test`). When Slurm
preempts the job or its time runs out, submitit calls :meth:`NodeJob.checkpoint`, which hands
back the same job to requeue; the requeued job finds the last checkpoint in OUTPUT_DIR and
continues from there (:data:`SUBMITTED_JOB_OVERRIDES`).
"""

import argparse
import multiprocessing
import os
import signal
import threading
import zlib
from collections.abc import Callable

import submitit
from fvcore.common.config import CfgNode

from timesformer.checkpoint.start_state import prepare_start_state
from timesformer.engine.launch import launch_job, output_dir_of_run, train_then_test
from timesformer.utils.parser import load_config

PORT_BASE = 20000
PORT_SPAN = 20000
LOOPBACK = "127.0.0.1"
SUBMITTED_JOB_OVERRIDES = ("TRAIN.AUTO_RESUME", "True")
"""What every submitted job needs, added after its own overrides: a requeued job continues from
the last checkpoint of its OUTPUT_DIR."""


def job_port(job_id: str) -> int:
    """A TCP port for the job's rendezvous, the same on every node of the job.

    Derived from the job id, so that two jobs sharing a first node do not fight
    over one fixed port (a requeued job keeps its id, hence its port).
    """
    return PORT_BASE + zlib.crc32(str(job_id).encode()) % PORT_SPAN


def rendezvous_url(job_env: submitit.JobEnvironment) -> str:
    """``tcp://HOST:PORT`` of the job's first node, as every node computes it.

    A one-node job meets on the loopback address, which needs no name resolution.
    """
    host = job_env.hostnames[0] if job_env.num_nodes > 1 else LOOPBACK
    return f"tcp://{host}:{job_port(job_env.job_id)}"


def preemption_signal() -> signal.Signals:
    """The signal submitit's handler takes as "preempted or timed out" (USR2 unless overridden)."""
    return getattr(signal, "SIG" + submitit.JobEnvironment.USR_SIG)


class InMainProcessOnly:
    """A signal handler that acts in the process that installed it, and is ignored in forks of it.

    Wraps submitit's preemption handler so that data-loader workers forked from
    the main process (which inherit Python's handlers) do not checkpoint and
    requeue the job a second time.
    """

    def __init__(self, handler: Callable, main_pid: int) -> None:
        self.handler = handler
        self.main_pid = main_pid

    def __call__(self, signum: int, frame) -> None:
        if os.getpid() == self.main_pid:
            self.handler(signum, frame)


def guard_preemption_handler() -> None:
    """Restrict submitit's preemption handler (if any is installed) to this process."""
    sig = preemption_signal()
    handler = signal.getsignal(sig)
    if callable(handler) and threading.current_thread() is threading.main_thread():
        signal.signal(sig, InMainProcessOnly(handler, os.getpid()))


class MainProcessHandlesPreemption:
    """``func(cfg)`` for :func:`launch_job`, leaving the preemption signal to the node's main
    process.

    Slurm signals every process of the job step. Only the process that submitit
    started may checkpoint and requeue the job; the training processes that
    :func:`launch_job` spawns (one per GPU) ignore the signal, and so do their
    data-loader workers, which inherit the setting.
    """

    def __init__(self, func: Callable[[CfgNode], object], main_pid: int) -> None:
        self.func = func
        self.main_pid = main_pid

    def __call__(self, cfg: CfgNode) -> object:
        if os.getpid() != self.main_pid:
            signal.signal(preemption_signal(), signal.SIG_IGN)
        return self.func(cfg)


def _stop_spawned_workers() -> None:
    """Terminate this process's training processes (left running when the job is stopped)."""
    for child in multiprocessing.active_children():
        child.terminate()
    for child in multiprocessing.active_children():
        child.join(timeout=30)


class NodeJob:
    """What one node of a submitit job runs: ``tools/run_net.py``'s train-then-test flow.

    Args:
        cfg_file: the YAML config (an absolute path: the job may start in another folder).
        opts: ``KEY VALUE`` overrides, applied after the YAML file. ``tools/submit.py``
            puts OUTPUT_DIR (the job dir) and NUM_GPUS there; :attr:`run_opts` adds
            :data:`SUBMITTED_JOB_OVERRIDES` last.
        run: what every training process of the node runs with the config;
            :func:`~timesformer.engine.launch.train_then_test` by default.
    """

    def __init__(
        self, cfg_file: str, opts: list[str], run: Callable[[CfgNode], object] = train_then_test
    ) -> None:
        self.cfg_file = cfg_file
        self.opts = list(opts)
        self.run = run

    @property
    def run_opts(self) -> list[str]:
        """The overrides every node runs with: ``opts``, then :data:`SUBMITTED_JOB_OVERRIDES`."""
        return [*self.opts, *SUBMITTED_JOB_OVERRIDES]

    def node_args(self, job_env: submitit.JobEnvironment) -> argparse.Namespace:
        """The ``run_net.py`` arguments of this node: its shard id, the shard count and the
        rendezvous."""
        if job_env.num_tasks != job_env.num_nodes:
            raise RuntimeError(
                f"{job_env}: expected one task per node (tasks_per_node=1), found "
                f"{job_env.num_tasks} tasks on {job_env.num_nodes} node(s); "
                "each task starts one process per GPU itself."
            )
        return argparse.Namespace(
            cfg_file=self.cfg_file,
            opts=self.run_opts,
            shard_id=job_env.node,
            num_shards=job_env.num_nodes,
            init_method=rendezvous_url(job_env),
        )

    def __call__(self) -> None:
        """Train (TRAIN.ENABLE), then test (TEST.ENABLE) on this node's share of the job."""
        job_env = submitit.JobEnvironment()
        args = self.node_args(job_env)
        print(
            f"{job_env}: shard {args.shard_id} of {args.num_shards}, rendezvous {args.init_method}",
            flush=True,
        )
        cfg = load_config(args)
        prepare_start_state(cfg)  # once per node, before its training processes start
        guard_preemption_handler()
        try:
            with output_dir_of_run(cfg):
                launch_job(
                    cfg, args.init_method, MainProcessHandlesPreemption(self.run, os.getpid())
                )
        except BaseException:
            _stop_spawned_workers()
            raise

    def checkpoint(self) -> submitit.helpers.DelayedSubmission:
        """Called by submitit on preemption or timeout: requeue the same job.

        The requeued job starts from the last checkpoint of OUTPUT_DIR
        (:data:`SUBMITTED_JOB_OVERRIDES`); work done since that checkpoint is done again.
        """
        print(
            f"Requeuing {self.cfg_file}; it resumes from the last checkpoint of its OUTPUT_DIR.",
            flush=True,
        )
        return submitit.helpers.DelayedSubmission(
            self.__class__(self.cfg_file, self.opts, self.run)
        )
