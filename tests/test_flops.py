"""FLOP and activation counts (fvcore, attention products included) against hand counts of a tiny
divided-attention model, as the paper counts and as executed, and the log of a run's start."""

import logging

import pytest

from helpers import tiny_cfg
from timesformer.models.build import build_bare_model
from timesformer.models.flops import (
    activations_per_view,
    count_parameters,
    flops_per_view,
    log_model_info,
)
from timesformer.models.vit import find_vision_transformer

# The tiny config: D=32, 1 block of 2 heads, 2 frames of 32x32 in 16x16 patches (N=4), 2 classes,
# MLP 4D.
D, H, T, N, P, K, HIDDEN = 32, 2, 2, 4, 16, 2, 128
SPATIAL, TEMPORAL, ALL = (
    T * (1 + N),
    N * T,
    1 + N * T,
)  # tokens of spatial attention, temporal attention, MLP


@pytest.fixture(scope="module")
def tiny():
    cfg = tiny_cfg("", "")
    return build_bare_model(cfg), cfg


def test_flops_per_view_match_the_hand_count(tiny):
    model, cfg = tiny
    patch_embed = N * T * D * 3 * P * P
    linear = (
        TEMPORAL * (3 * D + D + D) * D + SPATIAL * (3 * D + D) * D + ALL * 2 * D * HIDDEN + D * K
    )
    attention = (
        N * T * T * 2 * D + T * (1 + N) ** 2 * 2 * D
    )  # Q K^T and A V: temporal groups, then frames
    layer_norm = (
        5 * (SPATIAL + TEMPORAL + ALL + 1) * D
    )  # norm1, temporal_norm1, norm2, final norm of CLS
    assert flops_per_view(model, cfg) * 1e9 == pytest.approx(
        patch_embed + linear + attention + layer_norm, rel=1e-9
    )


def test_executed_flops_take_the_shortcuts(tiny):
    """The one block is the last. Temporal attention projects its output once, through the
    product of temporal_attn.proj and temporal_fc. Spatial attention computes the CLS token's
    output alone, one query per frame, with the key and value maps folded into that query and
    its output (no token projected), then the CLS token's MLP."""
    model, cfg = tiny
    patch_embed = N * T * D * 3 * P * P
    temporal = (
        TEMPORAL * (3 * D + D) * D + D * D * D + D * D
    )  # qkv, the folded map, its weight and bias
    spatial = T * 4 * D * D  # per frame: query, query through the key map, value map, proj
    linear = temporal + spatial + 2 * D * HIDDEN + D * K
    attention = N * T * T * 2 * D + T * H * (1 + N) * 2 * D  # the H folded queries are D wide
    layer_norm = 5 * (SPATIAL + TEMPORAL + 1 + 1) * D
    executed = flops_per_view(model, cfg, as_computed=True) * 1e9
    assert executed == pytest.approx(patch_embed + linear + attention + layer_norm, rel=1e-9)
    assert find_vision_transformer(model).shortcuts  # restored after counting


def test_activations_per_view_match_the_hand_count(tiny):
    model, cfg = tiny
    linear = TEMPORAL * (3 * D + D + D) + SPATIAL * (3 * D + D) + ALL * (HIDDEN + D) + K
    attention = TEMPORAL * D + SPATIAL * D
    assert activations_per_view(model, cfg) * 1e6 == pytest.approx(
        N * T * D + linear + attention, rel=1e-9
    )


def test_log_model_info_reports_per_video_cost(tiny, caplog):
    model, cfg = tiny
    with caplog.at_level(logging.INFO):
        stats = log_model_info(model, cfg)
    assert stats["views_per_video"] == 2  # TEST.NUM_ENSEMBLE_VIEWS 2 x NUM_SPATIAL_CROPS 1
    assert stats["gflops_per_video"] == pytest.approx(2 * stats["gflops_per_view"])
    assert stats["params_m"] == count_parameters(model) / 1e6
    assert "per video (2 views)" in caplog.text and "Activations" in caplog.text
