"""MODEL_REGISTRY and ``build_model(cfg)``."""

import torch
from fvcore.common.config import CfgNode
from fvcore.common.registry import Registry
from torch import nn

from timesformer.utils.distributed import get_world_size

MODEL_REGISTRY = Registry("MODEL")
MODEL_REGISTRY.__doc__ = """Models by MODEL.MODEL_NAME; each is called as ``Model(cfg)``."""


def build_model(cfg: CfgNode, gpu_id: int | None = None) -> nn.Module:
    """Build MODEL.MODEL_NAME from the registry, ready to train in this process.

    The model goes to the GPU ``gpu_id`` (default: the current CUDA device) when
    NUM_GPUS > 0, else stays on the CPU; it is wrapped in DistributedDataParallel
    when the process group has more than one process, and compiled with
    ``torch.compile`` when MODEL.COMPILE is set.

    Raises:
        KeyError: MODEL.MODEL_NAME is not registered (the message lists the names that are).
    """
    model = _model_class(cfg.MODEL.MODEL_NAME)(cfg)
    device = _device(cfg, gpu_id)
    model = model.to(device)
    if get_world_size() > 1:
        model = _distributed(model, device)
    if cfg.MODEL.COMPILE:
        model = torch.compile(model)
    return model


def _model_class(name: str) -> type:
    registered = sorted(registered_name for registered_name, _ in MODEL_REGISTRY)
    if name not in registered:
        raise KeyError(f"MODEL.MODEL_NAME is {name!r}; registered models: {', '.join(registered)}.")
    return MODEL_REGISTRY.get(name)


def _distributed(model: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel on this process's GPU, or over gloo on the CPU."""
    if device.type == "cuda":
        return nn.parallel.DistributedDataParallel(model, device_ids=[device], output_device=device)
    return nn.parallel.DistributedDataParallel(model)


def _device(cfg: CfgNode, gpu_id: int | None) -> torch.device:
    if cfg.NUM_GPUS == 0:
        return torch.device("cpu")
    return torch.device("cuda", torch.cuda.current_device() if gpu_id is None else gpu_id)
