"""Model statistics: parameters and FLOPs per view (fvcore), logged when a run starts."""

import torch
from fvcore.common.config import CfgNode

from timesformer.utils.logging import get_logger

logger = get_logger(__name__)


def count_parameters(model: torch.nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


def flops_per_view(model: torch.nn.Module, cfg: CfgNode) -> float:
    """GFLOPs (fvcore counts one fused multiply-add as one FLOP) of one test view."""
    # Imported here: importing fvcore.nn scripts a loss with the deprecated torch.jit.script.
    from fvcore.nn import FlopCountAnalysis

    module = model.module if hasattr(model, "module") else model
    device = next(module.parameters()).device
    size = cfg.DATA.TEST_CROP_SIZE
    clip = torch.zeros(1, 3, cfg.DATA.NUM_FRAMES, size, size, device=device)
    was_training = module.training
    module.eval()
    with torch.no_grad():
        analysis = FlopCountAnalysis(module, clip)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = analysis.total()
    module.train(was_training)
    return total / 1e9


def log_model_info(model: torch.nn.Module, cfg: CfgNode) -> None:
    """Log parameter count and FLOPs per view and per video (views x crops)."""
    views = cfg.TEST.NUM_ENSEMBLE_VIEWS * cfg.TEST.NUM_SPATIAL_CROPS
    gflops = flops_per_view(model, cfg)
    logger.info("Parameters: %.2f M", count_parameters(model) / 1e6)
    logger.info("FLOPs: %.2f G per view, %.2f G per video (%d views)", gflops, gflops * views, views)
