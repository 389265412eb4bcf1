"""Launching a run: what ``tools/run_net.py``'s command line starts (and ``train_net.py``'s,
``test_net.py``'s: :func:`start_run`), one process or one per GPU / CPU slot joined into a
process group, or one rank of a job that a launcher started (torchrun, a PyTorchJob: see
:mod:`timesformer.utils.launcher_environment`), and the train-then-test flow every launcher runs
(``run_net.py``, the Slurm scripts, the submitit job).
"""

import ctypes
import datetime
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from fvcore.common.config import CfgNode

from timesformer.checkpoint.start_state import prepare_start_state
from timesformer.checkpoint.training_state import get_checkpoint_dir
from timesformer.config.batch import processes_per_machine
from timesformer.engine.run_summary import log_file_size, log_run_summary
from timesformer.engine.tester import test
from timesformer.engine.trainer import train
from timesformer.errors import TimesformerError
from timesformer.utils import distributed as du
from timesformer.utils.file_io import RunFolderError, folder_problem
from timesformer.utils.launcher_environment import LauncherEnvironment
from timesformer.utils.logging import get_logger, setup_run_logging
from timesformer.utils.output_lock import lock_output_dir
from timesformer.utils.parser import save_config, saved_config_changes
from timesformer.utils.user_errors import RunStopped
from timesformer.visualization.tensorboard_vis import tensorboard_log_dir

logger = get_logger(__name__)

_PR_SET_PDEATHSIG = 1
_PARENT_POLL_S = 1.0
_COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)


class RendezvousError(TimesformerError, RuntimeError):
    """The processes of a launched job did not all meet at MASTER_ADDR:MASTER_PORT in time."""


def train_then_test(cfg: CfgNode) -> None:
    """Train when TRAIN.ENABLE, then test when TEST.ENABLE, in this process.

    Both phases run in the same processes and process group, so a job meets once
    (one rendezvous) however many machines it spans; all processes finish training
    (and the last checkpoint is written) before any starts testing.
    """
    if cfg.TRAIN.ENABLE:
        train(cfg)
    if cfg.TEST.ENABLE:
        du.synchronize()
        test(cfg)


def end_with_parent(parent_pid: int) -> None:
    """Make this process end as soon as its parent ``parent_pid`` does, however the parent
    ends (kill -9 included), so that training processes never run on, writing checkpoints and
    holding the rendezvous port, after the launcher is gone.

    Linux: the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere a daemon thread polls the parent. (torch's spawn asks for SIGINT, which a
    process started in the background ignores.)
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        watched_by_kernel = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        watched_by_kernel = False
    if not watched_by_kernel:
        threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def run_process(
    local_rank: int,
    num_proc: int,
    func: Callable[[CfgNode], object],
    init_method: str,
    shard_id: int,
    num_shards: int,
    backend: str,
    cfg: CfgNode,
    parent_pid: int | None = None,
    stops=None,
) -> None:
    """Body of one process: join the process group, pick the GPU, call ``func(cfg)``.

    Global rank is ``shard_id * num_proc + local_rank`` of ``num_shards * num_proc``.
    A spawned process (``parent_pid`` given) ends with its parent; when ``func`` stops
    on a :class:`~timesformer.errors.TimesformerError`, it puts ``(message, exit status)`` on
    the ``stops`` queue and exits with that status.
    """
    if parent_pid is not None:
        end_with_parent(parent_pid)
    world_size = num_proc * num_shards
    rank = shard_id * num_proc + local_rank
    if cfg.NUM_GPUS > 0:
        torch.cuda.set_device(local_rank)
    torch.distributed.init_process_group(
        backend=backend,
        init_method=init_method,
        world_size=world_size,
        rank=rank,
        timeout=_COLLECTIVE_TIMEOUT,
    )
    try:
        func(cfg)
    except TimesformerError as error:
        if stops is None:
            raise
        stops.put((str(error), error.exit_status))
        sys.exit(error.exit_status)
    finally:
        torch.distributed.destroy_process_group()


def _join_launched_job(cfg: CfgNode, environment: LauncherEnvironment) -> None:
    """Join the process group of a launched job through the store at MASTER_ADDR:MASTER_PORT:
    torchrun's agent's when it holds one, else one that rank 0 serves; waiting at most
    DIST_RENDEZVOUS_TIMEOUT seconds for the others.

    torchrun's agent keeps its store across restarts, so each attempt's processes meet under a
    prefix of their own (``/worker/attempt_N``, N = TORCHELASTIC_RESTART_COUNT): a restarted
    group never reads the addresses of the one it replaces (plain ``env://`` does, and its
    processes then fail to connect).

    Raises:
        RendezvousError: the processes did not all meet in time, naming the endpoint.
    """
    wait = cfg.DIST_RENDEZVOUS_TIMEOUT
    try:
        server = torch.distributed.TCPStore(
            environment.master_addr,
            environment.master_port,
            environment.world_size,
            is_master=environment.rank == 0 and not environment.agent_store,
            timeout=datetime.timedelta(seconds=wait),
            wait_for_workers=True,
        )
    except RuntimeError as error:  # torch's DistStoreError (a timeout) and connection errors
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RendezvousError(
            f"The job's {environment.world_size} processes did not meet at MASTER_ADDR:MASTER_PORT "
            f"{environment.endpoint} within DIST_RENDEZVOUS_TIMEOUT {wait} s ({reason}); this "
            f"process is {environment.describe()}. Check that every rank is started, that rank 0 "
            "runs on MASTER_ADDR, and that its MASTER_PORT is free there and reachable."
        ) from error
    store = torch.distributed.PrefixStore(f"/worker/attempt_{environment.restart_count}", server)
    torch.distributed.init_process_group(
        backend=cfg.DIST_BACKEND,
        store=store,
        rank=environment.rank,
        world_size=environment.world_size,
        timeout=_COLLECTIVE_TIMEOUT,
    )


def _log_restart(cfg: CfgNode, environment: LauncherEnvironment) -> None:
    """Say, on global rank 0, that torchrun restarted the job, and where it resumes from."""
    if environment.restart_count == 0 or not du.is_master_proc():
        return
    setup_run_logging(cfg)
    logger.warning(
        "Restart %d of this job (torchrun restarted its processes, TORCHELASTIC_RESTART_COUNT): %s",
        environment.restart_count,
        "training resumes from the last checkpoint in OUTPUT_DIR."
        if cfg.TRAIN.AUTO_RESUME
        else "TRAIN.AUTO_RESUME is False, so training starts over.",
    )


def run_launched_rank(
    cfg: CfgNode, environment: LauncherEnvironment, func: Callable[[CfgNode], object]
) -> None:
    """Body of a process that a launcher started as one rank of the job: take the GPU of its
    LOCAL_RANK (NUM_GPUS > 0), join the job, call ``func(cfg)``."""
    if cfg.NUM_GPUS > 0:
        torch.cuda.set_device(environment.local_rank)
    _join_launched_job(cfg, environment)
    try:
        _log_restart(cfg, environment)
        func(cfg)
    finally:
        torch.distributed.destroy_process_group()


def launch_job(
    cfg: CfgNode,
    init_method: str,
    func: Callable[[CfgNode], object],
    environment: LauncherEnvironment | None = None,
) -> None:
    """Run ``func(cfg)`` in every process of this machine.

    A process a launcher started (``environment``): it is one rank, and runs as that rank
    (:func:`run_launched_rank`). Otherwise, one process and one machine: called directly; else
    NUM_GPUS (or, on the CPU, NUM_PROCS) processes are spawned and joined with the other
    NUM_SHARDS - 1 machines through ``init_method`` (``tcp://HOST:PORT`` of machine 0). Spawned
    processes end when this one does.

    Raises:
        RunStopped: a spawned process stopped on an error its message explains.
    """
    if environment is not None:
        run_launched_rank(cfg, environment, func)
        return
    num_proc = processes_per_machine(cfg)
    if num_proc == 1 and cfg.NUM_SHARDS == 1:
        func(cfg)
        return
    args = (num_proc, func, init_method, cfg.SHARD_ID, cfg.NUM_SHARDS, cfg.DIST_BACKEND, cfg)
    if num_proc == 1:
        run_process(0, *args)
        return
    stops = torch.multiprocessing.get_context("spawn").SimpleQueue()
    # When one process fails, spawn stops the others and logs each stop; the failure says why.
    logging.getLogger("torch.multiprocessing.spawn").setLevel(logging.ERROR)
    try:
        torch.multiprocessing.spawn(
            run_process, nprocs=num_proc, args=(*args, os.getpid(), stops), daemon=False
        )
    except torch.multiprocessing.ProcessExitedException:
        if stops.empty():
            raise
        message, exit_status = stops.get()
        raise RunStopped(message, exit_status) from None
    finally:
        stops.close()


@contextmanager
def output_dir_of_run(
    cfg: CfgNode, environment: LauncherEnvironment | None = None
) -> Iterator[None]:
    """Machine 0 (SHARD_ID 0; of a launched job, global rank 0 of ``environment``) owns
    OUTPUT_DIR for the ``with`` block: checks that every folder
    the run writes can be written (:func:`check_run_folders`), creates OUTPUT_DIR, locks it
    (a second run there stops at once, naming this one), logs the keys that differ from the
    config an earlier run saved there, and saves this run's config.yaml. Other machines (and
    processes) only run the block.

    Raises:
        RunFolderError: a folder of the run, or config.yaml, cannot be created or written.
        OutputDirLockedError: another run holds OUTPUT_DIR.
        DiskFullError: no space is left in OUTPUT_DIR.
    """
    if not _owns_output_dir(cfg, environment):
        yield
        return
    check_run_folders(cfg)
    with lock_output_dir(cfg.OUTPUT_DIR):
        setup_run_logging(cfg)
        _log_config_changes(cfg)
        save_config(cfg)
        yield


def _owns_output_dir(cfg: CfgNode, environment: LauncherEnvironment | None) -> bool:
    """Machine 0 (SHARD_ID 0), or of a launched job global rank 0."""
    return cfg.SHARD_ID == 0 if environment is None else environment.rank == 0


def run_folders(cfg: CfgNode) -> dict[str, str]:
    """``{what: folder}`` of every folder the run writes in: OUTPUT_DIR, its checkpoint folder
    (TRAIN.ENABLE), the TensorBoard folder (TENSORBOARD.ENABLE) and the folder of
    TEST.SAVE_RESULTS_PATH (TEST.ENABLE, when set)."""
    folders = {"OUTPUT_DIR": cfg.OUTPUT_DIR}
    if cfg.TRAIN.ENABLE:
        folders["The checkpoint folder"] = get_checkpoint_dir(cfg.OUTPUT_DIR)
    if cfg.TENSORBOARD.ENABLE:
        folders["The TensorBoard folder (TENSORBOARD.LOG_DIR)"] = tensorboard_log_dir(cfg)
    if cfg.TEST.ENABLE and cfg.TEST.SAVE_RESULTS_PATH:
        results = os.path.join(cfg.OUTPUT_DIR, cfg.TEST.SAVE_RESULTS_PATH)
        folders["The folder of TEST.SAVE_RESULTS_PATH"] = os.path.dirname(results)
    return folders


def check_run_folders(cfg: CfgNode) -> None:
    """Stop before any work when a folder of :func:`run_folders` cannot be created or written
    (a dangling symlink, a symlink loop, a file in its place, no permission), naming it and
    why; creates nothing.

    Raises:
        RunFolderError: the first such folder.
    """
    for what, folder in run_folders(cfg).items():
        problem = folder_problem(folder)
        if problem is None:
            continue
        culprit, why = problem
        subject = "it" if culprit == folder else culprit
        raise RunFolderError(f"{what} {folder} cannot be created or written: {subject} {why}.")


def _log_config_changes(cfg: CfgNode) -> None:
    changes = saved_config_changes(cfg)
    if not changes:
        return
    only_longer = all(change.startswith("SOLVER.MAX_EPOCH:") for change in changes)
    (logger.info if only_longer else logger.warning)(
        "%d key(s) differ from the config an earlier run saved in %s; this run uses its own "
        "values:\n  %s",
        len(changes),
        os.path.join(cfg.OUTPUT_DIR, "config.yaml"),
        "\n  ".join(changes),
    )


def start_run(
    cfg: CfgNode,
    init_method: str,
    func: Callable[[CfgNode], object],
    environment: LauncherEnvironment | None,
    trains: bool = True,
) -> None:
    """Run ``func`` in this machine's processes, with the checked config of a command line
    (:func:`timesformer.cli.run_command.run_command_line`, run_net.py's and the scripts like it).

    When ``func`` ``trains`` (run_net.py, train_net.py; not test_net.py) and training starts
    from nothing, get the ImageNet weights it starts from
    (:func:`~timesformer.checkpoint.start_state.prepare_start_state`), before any process
    starts. Then take OUTPUT_DIR (machine 0: :func:`output_dir_of_run`) and launch; machine 0
    ends with the run's summary (:mod:`~timesformer.engine.run_summary`).
    """
    if trains:
        prepare_start_state(cfg)
    with output_dir_of_run(cfg, environment):
        run_start = log_file_size(cfg)
        launch_job(cfg, init_method, func, environment)
        if _owns_output_dir(cfg, environment):
            log_run_summary(cfg, run_start)
