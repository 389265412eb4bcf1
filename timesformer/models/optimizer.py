"""Optimizer construction (SGD, Adam or AdamW): the original's weight decay, or PySlowFast's
groups. ``construct_optimizer``, the original's name of :func:`build_optimizer`, still works, with
a ``DeprecationWarning``."""

import torch
from fvcore.common.config import CfgNode

from timesformer.config.checks import register_allowed_values
from timesformer.utils.deprecation import renamed_function

# Parameters that SOLVER.ZERO_WD_1D_PARAM exempts from weight decay, besides all biases and
# normalization weights (every parameter with fewer than two dimensions).
NO_DECAY_NAMES = ("pos_embed", "cls_token", "time_embed")


def _decays(name: str, param: torch.nn.Parameter) -> bool:
    return param.ndim > 1 and name.rsplit(".", 1)[-1] not in NO_DECAY_NAMES


def param_groups(
    model: torch.nn.Module, weight_decay: float, zero_wd_1d_param: bool = False
) -> list[dict]:
    """The optimizer's parameter groups.

    Default, as the original: one group, every trainable parameter decayed by
    ``weight_decay``. ``zero_wd_1d_param`` (SOLVER.ZERO_WD_1D_PARAM): two groups, weights
    with ``weight_decay`` and biases / norms / embeddings without.
    """
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not zero_wd_1d_param:
        return [{"params": [p for _, p in params], "weight_decay": weight_decay}]
    decay = [p for name, p in params if _decays(name, p)]
    no_decay = [p for name, p in params if not _decays(name, p)]
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def _sgd(groups: list[dict], solver: CfgNode) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        groups,
        lr=solver.BASE_LR,
        momentum=solver.MOMENTUM,
        dampening=solver.DAMPENING,
        nesterov=solver.NESTEROV and solver.MOMENTUM > 0 and solver.DAMPENING == 0,
    )


def _adam(groups: list[dict], solver: CfgNode) -> torch.optim.Optimizer:
    # The fused kernel updates all parameters in one pass: about 8x faster than the
    # default AdamW step on a CPU (tools/benchmark_model.py), the same update. Betas (0.9,
    # 0.999) and eps 1e-8, torch's defaults, are the original's.
    return torch.optim.Adam(groups, lr=solver.BASE_LR, fused=True)


def _adamw(groups: list[dict], solver: CfgNode) -> torch.optim.Optimizer:
    return torch.optim.AdamW(groups, lr=solver.BASE_LR, fused=True)  # fused: see _adam


OPTIMIZERS = {"sgd": _sgd, "adam": _adam, "adamw": _adamw}
"""SOLVER.OPTIMIZING_METHOD -> ``optimizer(param_groups, cfg.SOLVER)``."""

register_allowed_values("SOLVER.OPTIMIZING_METHOD", OPTIMIZERS.keys)


def build_optimizer(model: torch.nn.Module, cfg: CfgNode) -> torch.optim.Optimizer:
    """The optimizer named by SOLVER.OPTIMIZING_METHOD, starting at SOLVER.BASE_LR."""
    solver = cfg.SOLVER
    groups = param_groups(model, solver.WEIGHT_DECAY, solver.ZERO_WD_1D_PARAM)
    return OPTIMIZERS[solver.OPTIMIZING_METHOD](groups, solver)


construct_optimizer = renamed_function(build_optimizer, "construct_optimizer")


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
