"""Model statistics: parameters, FLOPs and activations (fvcore), logged when a run starts.

fvcore counts one fused multiply-add as one FLOP (the convention of the
TimeSformer paper's cost figures) and by default skips
``aten::scaled_dot_product_attention``; :func:`sdpa_flop_jit` counts it, so the
attention matrix products (``Q K^T`` and ``A V``) are part of the total, as in
the paper: ViT-Base divided 8x224 costs about 196 GFLOPs per view.

The paper's figure runs every token through every layer. Our forward pass takes
exact shortcuts (the last block computes the CLS output alone; a divided block's
two temporal output projections act as one), so it executes fewer FLOPs; both
counts are reported.
"""

from collections.abc import Callable
from contextlib import contextmanager
from math import prod

import torch
from fvcore.common.config import CfgNode

from timesformer.config.batch import views_per_video
from timesformer.models.build import view_batch_shape
from timesformer.models.vit import find_vision_transformer
from timesformer.utils.distributed import unwrap_model
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

SDPA_OPS = (
    "aten::scaled_dot_product_attention",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention",
)
"""The names a traced ``F.scaled_dot_product_attention`` call may carry."""


def count_parameters(model: torch.nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


def sdpa_flop_jit(inputs: list, outputs: list) -> int:
    """fvcore handle: multiply-adds of attention with q (..., L, E), k (..., S, E), v (..., S, Ev).

    ``Q K^T`` costs ``L * S * E`` and ``softmax(.) V`` costs ``L * S * Ev`` per
    leading index (batch x heads); the softmax itself is not counted.
    """
    from fvcore.nn.jit_handles import get_shape

    query, key, value = (get_shape(v) for v in inputs[:3])
    leading, length, width = prod(query[:-2]), query[-2], query[-1]
    return leading * length * key[-2] * (width + value[-1])


def sdpa_activation_jit(inputs: list, outputs: list) -> int:
    """fvcore handle: elements of the attention output (..., L, Ev)."""
    from fvcore.nn.jit_handles import get_shape

    return prod(get_shape(outputs[0]))


def _test_clip(module: torch.nn.Module, cfg: CfgNode) -> torch.Tensor:
    """A zero test view (1, 3, NUM_FRAMES, TEST_CROP_SIZE, TEST_CROP_SIZE) on the model's device."""
    return torch.zeros(view_batch_shape(cfg), device=next(module.parameters()).device)


def _count_per_view(
    model: torch.nn.Module, cfg: CfgNode, analysis_class: Callable, sdpa_handle: Callable
) -> float:
    """Total of an fvcore JIT analysis over one test view, the model in eval mode."""
    module = unwrap_model(model)
    was_training = module.training
    module.eval()
    with torch.no_grad():
        analysis = analysis_class(module, _test_clip(module, cfg))
        analysis.set_op_handle(**{name: sdpa_handle for name in SDPA_OPS})
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = analysis.total()
    module.train(was_training)
    return float(total)


@contextmanager
def _every_token_through_every_block(model: torch.nn.Module, enabled: bool):
    """Within the block, the model runs every token through every layer, its exact shortcuts
    off (when ``enabled``)."""
    vit = find_vision_transformer(model)
    saved = vit.shortcuts
    vit.shortcuts = saved and not enabled
    try:
        yield
    finally:
        vit.shortcuts = saved


def flops_per_view(model: torch.nn.Module, cfg: CfgNode, as_computed: bool = False) -> float:
    """GFLOPs (one fused multiply-add = one FLOP) of one test view, attention products included.

    By default every token goes through every block, as the paper counts; with
    ``as_computed``, what this implementation's forward pass executes.
    """
    # Imported here: importing fvcore.nn scripts a loss with the deprecated torch.jit.script.
    from fvcore.nn import FlopCountAnalysis

    with _every_token_through_every_block(model, enabled=not as_computed):
        return _count_per_view(model, cfg, FlopCountAnalysis, sdpa_flop_jit) / 1e9


def activations_per_view(model: torch.nn.Module, cfg: CfgNode, as_computed: bool = False) -> float:
    """Millions of activations (output elements of convolutions, linear layers and attention) of
    one view.

    ``as_computed`` as for :func:`flops_per_view`.
    """
    from fvcore.nn import ActivationCountAnalysis

    with _every_token_through_every_block(model, enabled=not as_computed):
        return _count_per_view(model, cfg, ActivationCountAnalysis, sdpa_activation_jit) / 1e6


def model_stats(model: torch.nn.Module, cfg: CfgNode) -> dict:
    """``{"params_m", "gflops_per_view", "gflops_per_video", "views_per_video", "activations_m",
    "computed_gflops_per_view"}``: the model's cost as the paper counts it, and what our forward
    executes."""
    gflops = flops_per_view(model, cfg)
    views = views_per_video(cfg)
    return {
        "params_m": count_parameters(model) / 1e6,
        "gflops_per_view": gflops,
        "gflops_per_video": gflops * views,
        "views_per_video": views,
        "activations_m": activations_per_view(model, cfg),
        "computed_gflops_per_view": flops_per_view(model, cfg, as_computed=True),
    }


def log_model_info(model: torch.nn.Module, cfg: CfgNode) -> dict:
    """Log parameters, FLOPs per view and per video (views x crops) and activations; return them."""
    stats = model_stats(model, cfg)
    logger.info("Model:\n%s", model)
    logger.info("Parameters: %.2f M", stats["params_m"])
    logger.info(
        "FLOPs: %.2f G per view, %.2f G per video (%d views)",
        stats["gflops_per_view"],
        stats["gflops_per_video"],
        stats["views_per_video"],
    )
    logger.info("Activations: %.2f M per view", stats["activations_m"])
    logger.info(
        "FLOPs executed by this implementation: %.2f G per view", stats["computed_gflops_per_view"]
    )
    return stats
