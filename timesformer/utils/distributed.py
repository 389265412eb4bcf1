"""This process's place in a job: process group helpers that also work without a process
group (one process), its device, and the model inside the wrappers a run adds."""

from collections.abc import Mapping

import torch
import torch.distributed as dist
from fvcore.common.config import CfgNode

WRAPPER_ATTRIBUTES = ("module", "_orig_mod")
"""Where DistributedDataParallel ("module") and torch.compile ("_orig_mod") keep the wrapped model;
the same names prefix the wrapped model's parameter names in the wrapper's state dict."""


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


def process_device(cfg: CfgNode) -> torch.device:
    """The device of this process: its current CUDA device when NUM_GPUS > 0 (the GPU a launched
    process was given; GPU 0 in a single process), else the CPU."""
    if cfg.NUM_GPUS == 0:
        return torch.device("cpu")
    return torch.device("cuda", torch.cuda.current_device())


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DistributedDataParallel and/or torch.compile wrappers (any nesting)."""
    while True:
        inner = next(
            (getattr(model, name) for name in WRAPPER_ATTRIBUTES if hasattr(model, name)), None
        )
        if not isinstance(inner, torch.nn.Module):
            return model
        model = inner


def strip_wrapper_prefixes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A wrapper's state dict in the names of the wrapped model: leading ``module.`` /
    ``_orig_mod.`` removed, in any order and number."""
    prefixes = tuple(name + "." for name in WRAPPER_ATTRIBUTES)
    stripped = {}
    for key, value in state_dict.items():
        while key.startswith(prefixes):
            key = key.split(".", 1)[1]
        stripped[key] = value
    return stripped


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


def sum_over_processes(*values: float) -> list[float]:
    """Each of ``values`` summed over all processes (float64; on the GPU for NCCL)."""
    tensor = torch.tensor(values, dtype=torch.float64)
    if is_distributed() and dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    all_reduce([tensor], average=False)
    return tensor.cpu().tolist()
