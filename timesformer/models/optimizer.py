"""Optimizer construction (SGD, Adam or AdamW): the original's weight decay, or PySlowFast's
groups, optionally with layer-wise learning-rate decay (:mod:`timesformer.models.layer_decay`).
``construct_optimizer``, the original's name of :func:`build_optimizer`, still works, with a
``DeprecationWarning``."""

import torch
from fvcore.common.config import CfgNode

from timesformer.config.checks import register_allowed_values
from timesformer.models.layer_decay import count_blocks, describe_layer_decay, layer_id, lr_scale
from timesformer.utils.deprecation import renamed_function
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

# Parameters that SOLVER.ZERO_WD_1D_PARAM exempts from weight decay, besides all biases and
# normalization weights (every parameter with fewer than two dimensions).
NO_DECAY_NAMES = ("pos_embed", "cls_token", "time_embed")


def _decays(name: str, param: torch.nn.Parameter) -> bool:
    return param.ndim > 1 and name.rsplit(".", 1)[-1] not in NO_DECAY_NAMES


def param_groups(
    model: torch.nn.Module,
    weight_decay: float,
    zero_wd_1d_param: bool = False,
    layer_decay: float = 1.0,
) -> list[dict]:
    """The optimizer's parameter groups; frozen parameters (no ``requires_grad``) are in none.

    Default, as the original: one group, every trainable parameter decayed by
    ``weight_decay``. ``zero_wd_1d_param`` (SOLVER.ZERO_WD_1D_PARAM): two groups, weights
    with ``weight_decay`` and biases / norms / embeddings without. ``layer_decay`` < 1
    (SOLVER.LAYER_DECAY): those groups split by layer, see :func:`layer_decay_groups`.
    """
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if layer_decay < 1.0:
        depth = count_blocks(name for name, _ in model.named_parameters())
        return layer_decay_groups(params, depth, weight_decay, zero_wd_1d_param, layer_decay)
    if not zero_wd_1d_param:
        return [{"params": [p for _, p in params], "weight_decay": weight_decay}]
    decay = [p for name, p in params if _decays(name, p)]
    no_decay = [p for name, p in params if not _decays(name, p)]
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def layer_decay_groups(
    params: list[tuple[str, torch.nn.Parameter]],
    depth: int,
    weight_decay: float,
    zero_wd_1d_param: bool,
    layer_decay: float,
) -> list[dict]:
    """One group per (layer, decayed or not) of the named ``params`` of a ``depth``-block model,
    the embeddings' first and decayed before not decayed within a layer.

    Each group holds ``"lr_scale"`` (``layer_decay ** (depth + 1 - layer)``, which
    :func:`set_lr` applies) and ``"layer_id"`` (0 embeddings, ``i + 1`` block ``i``,
    ``depth + 1`` final norm and head). Weight decay as in :func:`param_groups`.
    """
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in params:
        layer = layer_id(name, depth)
        decays = not zero_wd_1d_param or _decays(name, param)
        group = groups.setdefault(
            (layer, decays),
            {
                "params": [],
                "weight_decay": weight_decay if decays else 0.0,
                "lr_scale": lr_scale(layer, depth, layer_decay),
                "layer_id": layer,
            },
        )
        group["params"].append(param)
    return [groups[key] for key in sorted(groups, key=lambda key: (key[0], not key[1]))]


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
    """The optimizer named by SOLVER.OPTIMIZING_METHOD over ``model``'s trainable parameters,
    starting at SOLVER.BASE_LR (times each group's layer-wise scale, SOLVER.LAYER_DECAY).

    Logs the layer-wise scales when SOLVER.LAYER_DECAY < 1, and how many parameters train
    when some are frozen (:mod:`timesformer.models.freezing`).
    """
    solver = cfg.SOLVER
    groups = param_groups(model, solver.WEIGHT_DECAY, solver.ZERO_WD_1D_PARAM, solver.LAYER_DECAY)
    _log_groups(model, groups, cfg)
    optimizer = OPTIMIZERS[solver.OPTIMIZING_METHOD](groups, solver)
    set_lr(optimizer, solver.BASE_LR)
    return optimizer


def _log_groups(model: torch.nn.Module, groups: list[dict], cfg: CfgNode) -> None:
    """Log the layer-wise scales (SOLVER.LAYER_DECAY < 1) and the trainable / frozen counts
    (when some parameters are frozen)."""
    layer_decay = cfg.SOLVER.LAYER_DECAY
    if layer_decay < 1.0:
        depth = count_blocks(name for name, _ in model.named_parameters())
        layers = [group["layer_id"] for group in groups]
        logger.info(describe_layer_decay(layers, depth, layer_decay))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for group in groups for p in group["params"])
    if trainable < total:
        logger.info(
            "Training %s of the model's %s parameters (%.2f%%); %s frozen (%s).",
            f"{trainable:,}",
            f"{total:,}",
            100.0 * trainable / total,
            f"{total - trainable:,}",
            _frozen_by(cfg),
        )


def _frozen_by(cfg: CfgNode) -> str:
    if cfg.TRAIN.LINEAR_PROBE:
        return "TRAIN.LINEAR_PROBE: only the head trains"
    blocks = cfg.TRAIN.FREEZE_BLOCKS
    if blocks:
        return f"TRAIN.FREEZE_BLOCKS {blocks}: the embeddings and the first {blocks} block(s)"
    return "requires_grad False"


construct_optimizer = renamed_function(build_optimizer, "construct_optimizer")


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate to ``lr`` times its ``"lr_scale"`` (the
    layer-wise decay of :func:`layer_decay_groups`; 1 in groups without one), so that every
    LR policy composes with it."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
