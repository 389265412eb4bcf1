"""The checks of the training recipe: solver and learning-rate schedule, Mixup / CutMix, clip
augmentation (AUG) and the fine-tuning keys (layer-wise LR decay, EMA, frozen blocks); part of
:func:`timesformer.config.checks.assert_and_infer_cfg`."""

import itertools
import logging
import re

from fvcore.common.config import CfgNode

from timesformer.config.check_rules import one_of, require

logger = logging.getLogger(__name__)


def check_solver(cfg: CfgNode) -> None:
    solver = cfg.SOLVER
    require(solver.BASE_LR > 0, f"SOLVER.BASE_LR is {solver.BASE_LR}; expected > 0.")
    require(solver.MAX_EPOCH >= 1, f"SOLVER.MAX_EPOCH is {solver.MAX_EPOCH}; expected 1 or more.")
    require(
        solver.WEIGHT_DECAY >= 0, f"SOLVER.WEIGHT_DECAY is {solver.WEIGHT_DECAY}; expected >= 0."
    )
    for key in ("COSINE_END_LR", "WARMUP_START_LR", "MOMENTUM", "DAMPENING"):
        require(solver[key] >= 0, f"SOLVER.{key} is {solver[key]}; expected >= 0.")
    require(
        0 <= solver.WARMUP_EPOCHS <= solver.MAX_EPOCH,
        f"SOLVER.WARMUP_EPOCHS is {solver.WARMUP_EPOCHS}; expected 0 .. SOLVER.MAX_EPOCH "
        f"({solver.MAX_EPOCH}).",
    )
    if solver.LR_POLICY == "steps_with_relative_lrs":
        steps, lrs = list(solver.STEPS), list(solver.LRS)
        require(
            len(steps) >= 1 and len(steps) == len(lrs),
            f"SOLVER.STEPS {steps} and SOLVER.LRS {lrs} must be non-empty and of equal length "
            "for LR_POLICY steps_with_relative_lrs.",
        )
        require(
            steps[0] == 0 and all(a < b for a, b in itertools.pairwise(steps)),
            f"SOLVER.STEPS is {steps}; expected strictly increasing epochs starting at 0 (a "
            "repeated step would leave its SOLVER.LRS entry unused).",
        )
        require(all(lr >= 0 for lr in lrs), f"SOLVER.LRS is {lrs}; expected multipliers >= 0.")
        unreached = [step for step in steps if step >= solver.MAX_EPOCH]
        if unreached:  # as in the original: a short run keeps the LR of the last step it reaches
            logger.warning(
                "SOLVER.STEPS %s: step(s) %s are at or after SOLVER.MAX_EPOCH (%d) and are never "
                "reached; the learning rate stays at SOLVER.BASE_LR x %s from epoch %d on.",
                steps,
                unreached,
                solver.MAX_EPOCH,
                lrs[len(steps) - len(unreached) - 1],
                steps[len(steps) - len(unreached) - 1],
            )
    clip = solver.CLIP_GRAD_L2NORM
    require(
        clip is None or clip > 0,
        f"SOLVER.CLIP_GRAD_L2NORM is {clip}; expected None (no clipping) or > 0.",
    )


# The sections of timm's RandAugment config string that rand_augment_transform reads, in the
# forms it parses (an integer magnitude, n and mmax; floats for mstd and p).
_RAND_AUGMENT_FORM = re.compile(r"rand(-(m\d+|n\d+|mstd\d+(\.\d+)?|mmax\d+|inc[01]|p\d(\.\d+)?))*")
RAND_AUGMENT_FORM = "rand-m<int>-n<int>[-mstd<float>][-mmax<int>][-inc<0|1>][-p<float>]"


def check_augmentation(cfg: CfgNode) -> None:
    aug = cfg.AUG
    aa_type = aug.AA_TYPE
    require(
        aa_type == "" or _RAND_AUGMENT_FORM.fullmatch(aa_type) is not None,
        f"AUG.AA_TYPE is {aa_type!r}; expected timm's RandAugment form {RAND_AUGMENT_FORM} "
        "(e.g. 'rand-m7-n4-mstd0.5-inc1'), or '' for none.",
    )
    one_of("AUG.INTERPOLATION", aug.INTERPOLATION, ("bilinear", "bicubic"))
    require(0.0 <= aug.RE_PROB <= 1.0, f"AUG.RE_PROB is {aug.RE_PROB}; expected 0 .. 1.")
    one_of("AUG.RE_MODE", aug.RE_MODE, ("pixel", "rand", "const"))
    require(aug.RE_COUNT >= 1, f"AUG.RE_COUNT is {aug.RE_COUNT}; expected 1 or more.")


def check_finetuning(cfg: CfgNode) -> None:
    """Layer-wise LR decay, the EMA of the weights and frozen blocks."""
    decay = cfg.SOLVER.LAYER_DECAY
    require(
        0.0 < decay <= 1.0,
        f"SOLVER.LAYER_DECAY is {decay}; expected 0 < value <= 1 (1.0: no layer-wise decay).",
    )
    ema_decay = cfg.MODEL_EMA.DECAY
    require(0.0 <= ema_decay < 1.0, f"MODEL_EMA.DECAY is {ema_decay}; expected 0 <= decay < 1.")
    blocks, depth = cfg.TRAIN.FREEZE_BLOCKS, cfg.TIMESFORMER.DEPTH
    require(
        0 <= blocks <= depth,
        f"TRAIN.FREEZE_BLOCKS is {blocks}; expected 0 .. TIMESFORMER.DEPTH ({depth}), the "
        "number of blocks the model has.",
    )
    require(
        not (cfg.TRAIN.LINEAR_PROBE and blocks),
        f"TRAIN.LINEAR_PROBE freezes every block; TRAIN.FREEZE_BLOCKS ({blocks}) must then be 0.",
    )


def check_mixup(cfg: CfgNode) -> None:
    mixup = cfg.MIXUP
    for key in ("PROB", "SWITCH_PROB"):
        require(0.0 <= mixup[key] <= 1.0, f"MIXUP.{key} is {mixup[key]}; expected 0 .. 1.")
    for key in ("ALPHA", "CUTMIX_ALPHA"):
        require(mixup[key] >= 0, f"MIXUP.{key} is {mixup[key]}; expected 0 (off) or more.")
    require(
        0.0 <= mixup.LABEL_SMOOTHING < 1.0,
        f"MIXUP.LABEL_SMOOTHING is {mixup.LABEL_SMOOTHING}; expected 0 <= value < 1.",
    )
    minmax = mixup.CUTMIX_MINMAX
    require(
        minmax is None or (len(minmax) == 2 and 0 < minmax[0] < minmax[1] <= 1),
        f"MIXUP.CUTMIX_MINMAX is {minmax}; expected None or [min, max] with 0 < min < max <= 1.",
    )
