"""torch.distributed helpers that also work when no process group exists (one process)."""

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether this process belongs to an initialized process group."""
    return dist.is_available() and dist.is_initialized()


def get_world_size() -> int:
    """Processes in the job (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def get_rank() -> int:
    """Global rank of this process (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def is_master_proc() -> bool:
    """Whether this process is global rank 0, the one that logs and saves."""
    return get_rank() == 0


def synchronize() -> None:
    """Barrier across all processes; no-op with one process."""
    if is_distributed() and get_world_size() > 1:
        dist.barrier()


def all_reduce(tensors: list[torch.Tensor], average: bool = True) -> list[torch.Tensor]:
    """Sum (or average) each tensor over all processes, in place; returns them."""
    if not is_distributed():
        return tensors
    for tensor in tensors:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    if average:
        world_size = get_world_size()
        for tensor in tensors:
            tensor.div_(world_size)
    return tensors


def all_gather(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Concatenate each tensor along dim 0 over all processes (same shapes on every rank)."""
    if not is_distributed():
        return tensors
    gathered = []
    for tensor in tensors:
        parts = [torch.empty_like(tensor) for _ in range(get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        gathered.append(torch.cat(parts, dim=0))
    return gathered
