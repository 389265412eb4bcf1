"""Learning-rate schedules, evaluated at fractional epochs (the LR is set every iteration)."""

import math

from fvcore.common.config import CfgNode

from timesformer.config.checks import register_allowed_values


def lr_cosine(cfg: CfgNode, epoch: float) -> float:
    """Half a cosine from SOLVER.BASE_LR at epoch 0 to SOLVER.COSINE_END_LR at MAX_EPOCH."""
    solver = cfg.SOLVER
    progress = min(epoch / solver.MAX_EPOCH, 1.0)
    return solver.COSINE_END_LR + (solver.BASE_LR - solver.COSINE_END_LR) * 0.5 * (
        1.0 + math.cos(math.pi * progress)
    )


def lr_steps_with_relative_lrs(cfg: CfgNode, epoch: float) -> float:
    """SOLVER.BASE_LR x LRS[i] from epoch STEPS[i] on."""
    solver = cfg.SOLVER
    index = max(i for i, start in enumerate(solver.STEPS) if start <= epoch)
    return solver.BASE_LR * solver.LRS[index]


LR_POLICIES = {
    "cosine": lr_cosine,
    "steps_with_relative_lrs": lr_steps_with_relative_lrs,
}
"""SOLVER.LR_POLICY -> ``policy(cfg, epoch)``."""

register_allowed_values("SOLVER.LR_POLICY", LR_POLICIES.keys)


def get_lr_at_epoch(cfg: CfgNode, epoch: float) -> float:
    """Learning rate at fractional ``epoch``, with linear warmup over SOLVER.WARMUP_EPOCHS.

    During warmup the rate rises linearly from SOLVER.WARMUP_START_LR to the
    policy's rate at the end of the warmup.
    """
    policy = LR_POLICIES[cfg.SOLVER.LR_POLICY]
    warmup = cfg.SOLVER.WARMUP_EPOCHS
    if epoch < warmup:
        start, end = cfg.SOLVER.WARMUP_START_LR, policy(cfg, warmup)
        return start + (end - start) * epoch / warmup
    return policy(cfg, epoch)
