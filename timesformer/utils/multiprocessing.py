"""Launching a job: one process, or one per GPU / CPU slot, joined into a process group."""

import datetime
from typing import Callable

import torch
from fvcore.common.config import CfgNode

from timesformer.config.checks import processes_per_machine


def run(
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
        run(0, *args)
    else:
        torch.multiprocessing.spawn(run, nprocs=num_proc, args=args, daemon=False)
