"""Learning-rate schedules."""

import math

import pytest

from timesformer.config import get_cfg
from timesformer.utils.lr_policy import get_lr_at_epoch, schedule_warning


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


def test_a_schedule_that_reaches_base_lr_gets_no_warning():
    kinetics = _cfg(
        LR_POLICY="steps_with_relative_lrs", STEPS=[0, 11, 14], LRS=[1, 0.1, 0.01], MAX_EPOCH=15
    )
    assert schedule_warning(kinetics) is None
    # cosine after 5 warm-up epochs of 100 peaks at 99.4% of BASE_LR
    assert schedule_warning(_cfg(LR_POLICY="cosine", MAX_EPOCH=100, WARMUP_EPOCHS=5.0)) is None


def test_a_run_that_ends_while_warming_up_says_so():
    cfg = _cfg(
        LR_POLICY="cosine", BASE_LR=0.1, MAX_EPOCH=1, WARMUP_EPOCHS=5.0, WARMUP_START_LR=0.001
    )
    warning = schedule_warning(cfg)
    # warm-up heads for the cosine's rate at epoch 5, past MAX_EPOCH: its end, 0; peak 0.001
    assert warning is not None and "still warming up (SOLVER.WARMUP_EPOCHS 5.0" in warning
    assert "below SOLVER.BASE_LR 0.1" in warning


def test_a_schedule_that_never_reaches_base_lr_says_so():
    cfg = _cfg(LR_POLICY="steps_with_relative_lrs", STEPS=[0, 5], LRS=[0.1, 0.01], MAX_EPOCH=10)
    warning = schedule_warning(cfg)
    assert warning is not None and "never reaches it" in warning
    assert warning.startswith(f"The learning rate peaks at {0.1 * cfg.SOLVER.BASE_LR:.3g}")
