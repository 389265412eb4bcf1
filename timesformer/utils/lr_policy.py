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


def schedule_warning(cfg: CfgNode) -> str | None:
    """What a run should hear before it starts when its learning rate never reaches
    SOLVER.BASE_LR (within 1%): it ends while still warming up (SOLVER.WARMUP_EPOCHS >= MAX_EPOCH,
    e.g. a short fine-tuning run with a long recipe's warm-up), or its schedule peaks lower;
    None when it does reach it.

    The peak is the highest rate :func:`get_lr_at_epoch` gives at the epochs the run sets it
    (from 0 to MAX_EPOCH, excluded), looked up at a fine grid and where warm-up ends and steps
    start.
    """
    solver = cfg.SOLVER
    epochs = [solver.MAX_EPOCH * i / 1000 for i in range(1000)]
    epochs += [e for e in (solver.WARMUP_EPOCHS, *solver.STEPS) if e < solver.MAX_EPOCH]
    peak = max(get_lr_at_epoch(cfg, epoch) for epoch in epochs)
    if peak >= 0.99 * solver.BASE_LR:
        return None
    why = (
        f"the run ends (SOLVER.MAX_EPOCH {solver.MAX_EPOCH}) while still warming up "
        f"(SOLVER.WARMUP_EPOCHS {solver.WARMUP_EPOCHS}, from SOLVER.WARMUP_START_LR "
        f"{solver.WARMUP_START_LR}): shorten the warm-up or train longer"
        if solver.WARMUP_EPOCHS >= solver.MAX_EPOCH
        else f"the schedule (SOLVER.LR_POLICY {solver.LR_POLICY}, SOLVER.WARMUP_EPOCHS "
        f"{solver.WARMUP_EPOCHS}) never reaches it"
    )
    return f"The learning rate peaks at {peak:.3g}, below SOLVER.BASE_LR {solver.BASE_LR:g}: {why}."
