"""Mixed precision: the autocast context and the gradient scaler a config asks for."""

from contextlib import nullcontext

import torch
from fvcore.common.config import CfgNode

from timesformer.config.checks import register_allowed_values

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
"""TRAIN.MIXED_PRECISION_DTYPE -> its torch dtype."""

register_allowed_values("TRAIN.MIXED_PRECISION_DTYPE", DTYPES.keys)


def autocast_context(cfg: CfgNode):
    """``torch.autocast`` in TRAIN.MIXED_PRECISION_DTYPE when TRAIN.MIXED_PRECISION, else a
    no-op."""
    if not cfg.TRAIN.MIXED_PRECISION:
        return nullcontext()
    device_type = "cuda" if cfg.NUM_GPUS > 0 else "cpu"
    return torch.autocast(device_type=device_type, dtype=DTYPES[cfg.TRAIN.MIXED_PRECISION_DTYPE])


def build_grad_scaler(cfg: CfgNode) -> "torch.amp.GradScaler | None":
    """A GradScaler for fp16 training (bf16 and fp32 need none)."""
    if cfg.TRAIN.MIXED_PRECISION and cfg.TRAIN.MIXED_PRECISION_DTYPE == "fp16":
        return torch.amp.GradScaler("cuda")
    return None
