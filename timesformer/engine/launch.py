"""Launching a run: the command line of ``tools/run_net.py`` (and of ``train_net.py`` /
``test_net.py``), one process or one per GPU / CPU slot joined into a process group, and
the train-then-test flow every launcher runs (``run_net.py``, the Slurm scripts, the
submitit job).
"""

import datetime
from collections.abc import Callable

import torch
from fvcore.common.config import CfgNode

from timesformer.config.batch import processes_per_machine
from timesformer.engine.tester import test
from timesformer.engine.trainer import prepare_imagenet_weights, train
from timesformer.models.weight_files import CheckpointError
from timesformer.utils import distributed as du
from timesformer.utils.parser import (
    build_arg_parser,
    exit_with_error,
    load_config_or_exit,
    save_config,
)


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


def run_process(
    local_rank: int,
    num_proc: int,
    func: Callable[[CfgNode], None],
    init_method: str,
    shard_id: int,
    num_shards: int,
    backend: str,
    cfg: CfgNode,
) -> None:
    """Body of one process: join the process group, pick the GPU, call ``func(cfg)``.

    Global rank is ``shard_id * num_proc + local_rank`` of ``num_shards * num_proc``.
    """
    world_size = num_proc * num_shards
    rank = shard_id * num_proc + local_rank
    if cfg.NUM_GPUS > 0:
        torch.cuda.set_device(local_rank)
    torch.distributed.init_process_group(
        backend=backend,
        init_method=init_method,
        world_size=world_size,
        rank=rank,
        timeout=datetime.timedelta(minutes=30),
    )
    try:
        func(cfg)
    finally:
        torch.distributed.destroy_process_group()


def launch_job(cfg: CfgNode, init_method: str, func: Callable[[CfgNode], None]) -> None:
    """Run ``func(cfg)`` in every process of this machine.

    One process and one machine: called directly. Otherwise NUM_GPUS (or, on the
    CPU, NUM_PROCS) processes are spawned and joined with the other NUM_SHARDS - 1
    machines through ``init_method`` (``tcp://HOST:PORT`` of machine 0).
    """
    num_proc = processes_per_machine(cfg)
    if num_proc == 1 and cfg.NUM_SHARDS == 1:
        func(cfg)
        return
    args = (num_proc, func, init_method, cfg.SHARD_ID, cfg.NUM_SHARDS, cfg.DIST_BACKEND, cfg)
    if num_proc == 1:
        run_process(0, *args)
    else:
        torch.multiprocessing.spawn(run_process, nprocs=num_proc, args=args, daemon=False)


def run_command_line(
    argv: list[str] | None,
    func: Callable[[CfgNode], None],
    description: str,
    trains: bool = True,
) -> int:
    """``--cfg FILE [--init_method URL] [--shard_id N] [--num_shards N] [KEY VALUE ...]``.

    Load and check the config; when ``func`` ``trains`` (run_net.py, train_net.py; not
    test_net.py) and training starts from nothing, get the ImageNet weights it starts from
    (:func:`~timesformer.engine.trainer.prepare_imagenet_weights`). A config mistake, or
    weights that cannot be had, stops here with one line naming it, exit status 2. Then write
    the config to OUTPUT_DIR/config.yaml (machine 0) and run ``func`` in this machine's
    processes.
    """
    parser = build_arg_parser(description, launch=True)
    args = parser.parse_args(argv)
    cfg = load_config_or_exit(parser, args)
    if trains:
        try:
            prepare_imagenet_weights(cfg)
        except CheckpointError as error:
            exit_with_error(parser, error)
    if cfg.SHARD_ID == 0:
        save_config(cfg)
    launch_job(cfg, args.init_method, func)
    return 0
