"""MODEL_REGISTRY, ``build_bare_model(cfg)`` (the model alone, on the CPU) and
``build_model(cfg)`` (ready to train in this process), and the input a config's model takes."""

import torch
from fvcore.common.config import CfgNode
from fvcore.common.registry import Registry
from torch import nn

from timesformer.config.checks import register_allowed_values
from timesformer.models.freezing import freeze_for_finetuning
from timesformer.utils.distributed import get_world_size, process_device

MODEL_REGISTRY = Registry("MODEL")
MODEL_REGISTRY.__doc__ = """Models by MODEL.MODEL_NAME; each is called as ``Model(cfg)``."""


def registered_model_names() -> list[str]:
    """The MODEL.MODEL_NAME values :func:`build_bare_model` accepts, this package's models
    registered (importing this module alone registers none: :mod:`timesformer.models.vit`
    imports it)."""
    from timesformer.models import register_models

    register_models()
    return sorted(name for name, _ in MODEL_REGISTRY)


register_allowed_values("MODEL.MODEL_NAME", registered_model_names)


def build_bare_model(cfg: CfgNode) -> nn.Module:
    """MODEL.MODEL_NAME from the registry, built from ``cfg``, on the CPU.

    Raises:
        KeyError: MODEL.MODEL_NAME is not registered (the message lists the names that are).
    """
    registered = registered_model_names()
    if cfg.MODEL.MODEL_NAME not in registered:
        raise KeyError(
            f"MODEL.MODEL_NAME is {cfg.MODEL.MODEL_NAME!r}; "
            f"registered models: {', '.join(registered)}."
        )
    return MODEL_REGISTRY.get(cfg.MODEL.MODEL_NAME)(cfg)


def build_model(cfg: CfgNode, gpu_id: int | None = None) -> nn.Module:
    """:func:`build_bare_model`, ready to train in this process.

    The model goes to the GPU ``gpu_id`` (default: this process's device,
    :func:`~timesformer.utils.distributed.process_device`) when NUM_GPUS > 0, else stays
    on the CPU; it is wrapped in DistributedDataParallel when the process group has more
    than one process, and compiled with ``torch.compile`` when MODEL.COMPILE is set. The
    parameters TRAIN.LINEAR_PROBE / TRAIN.FREEZE_BLOCKS freeze stop requiring gradients first
    (:func:`~timesformer.models.freezing.freeze_for_finetuning`), so that DDP leaves them out.
    """
    model = freeze_for_finetuning(build_bare_model(cfg), cfg)
    device = (
        process_device(cfg) if gpu_id is None or cfg.NUM_GPUS == 0 else torch.device("cuda", gpu_id)
    )
    model = model.to(device)
    if get_world_size() > 1:
        model = _distributed(model, device)
    if cfg.MODEL.COMPILE:
        compiled = torch.compile(model)
        assert isinstance(compiled, nn.Module)  # an OptimizedModule, holding model as _orig_mod
        model = compiled
    return model


def _distributed(model: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel on this process's GPU, or over gloo on the CPU."""
    if device.type == "cuda":
        return nn.parallel.DistributedDataParallel(model, device_ids=[device], output_device=device)
    return nn.parallel.DistributedDataParallel(model)


def view_batch_shape(cfg: CfgNode, batch_size: int = 1) -> tuple[int, int, int, int, int]:
    """Shape of a batch of preprocessed test views: (batch_size, 3, NUM_FRAMES, TEST_CROP_SIZE,
    TEST_CROP_SIZE)."""
    size = cfg.DATA.TEST_CROP_SIZE
    return (batch_size, 3, cfg.DATA.NUM_FRAMES, size, size)
