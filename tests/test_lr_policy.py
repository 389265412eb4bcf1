"""Learning-rate schedules."""

import math

import pytest

from timesformer.config import get_cfg
from timesformer.utils.lr_policy import get_lr_at_epoch


def _cfg(**solver):
    cfg = get_cfg()
    for key, value in solver.items():
        cfg.SOLVER[key] = value
    return cfg


def test_steps_with_relative_lrs_follow_published_recipe():
    cfg = _cfg(
        LR_POLICY="steps_with_relative_lrs",
        BASE_LR=0.005,
        STEPS=[0, 11, 14],
        LRS=[1, 0.1, 0.01],
        MAX_EPOCH=15,
    )
    assert get_lr_at_epoch(cfg, 0.0) == pytest.approx(0.005)
    assert get_lr_at_epoch(cfg, 10.99) == pytest.approx(0.005)
    assert get_lr_at_epoch(cfg, 11.0) == pytest.approx(0.0005)
    assert get_lr_at_epoch(cfg, 14.5) == pytest.approx(0.00005)


def test_cosine_runs_from_base_to_end():
    cfg = _cfg(LR_POLICY="cosine", BASE_LR=0.1, COSINE_END_LR=0.001, MAX_EPOCH=10)
    assert get_lr_at_epoch(cfg, 0) == pytest.approx(0.1)
    assert get_lr_at_epoch(cfg, 5) == pytest.approx(0.001 + 0.099 * 0.5)
    assert get_lr_at_epoch(cfg, 10) == pytest.approx(0.001)
    assert get_lr_at_epoch(cfg, 2.5) == pytest.approx(
        0.001 + 0.099 * 0.5 * (1 + math.cos(math.pi / 4))
    )


def test_linear_warmup_reaches_policy_value():
    cfg = _cfg(
        LR_POLICY="cosine", BASE_LR=0.1, MAX_EPOCH=10, WARMUP_EPOCHS=2.0, WARMUP_START_LR=0.01
    )
    end_of_warmup = get_lr_at_epoch(cfg, 2.0)
    assert get_lr_at_epoch(cfg, 0.0) == pytest.approx(0.01)
    assert get_lr_at_epoch(cfg, 1.0) == pytest.approx((0.01 + end_of_warmup) / 2)
    lrs = [get_lr_at_epoch(cfg, e / 10) for e in range(21)]
    assert lrs == sorted(lrs)
