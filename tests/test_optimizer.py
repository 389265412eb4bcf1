"""Optimizer construction: methods and which parameters decay."""

import pytest
import torch

from helpers import TINY_MODEL, tiny_cfg
from timesformer.config import get_cfg
from timesformer.models.build import build_bare_model
from timesformer.models.optimizer import build_optimizer, param_groups, set_lr


class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, 4))
        self.pos_embed = torch.nn.Parameter(torch.zeros(1, 5, 4))
        self.time_embed = torch.nn.Parameter(torch.zeros(1, 2, 4))
        self.proj = torch.nn.Linear(4, 4)
        self.norm = torch.nn.LayerNorm(4)


def _names(model, params):
    by_id = {id(p): n for n, p in model.named_parameters()}
    return sorted(by_id[id(p)] for p in params)


def test_every_parameter_is_decayed_by_default_as_the_original():
    # The original's models/optimizer.py::construct_optimizer: parameters whose name holds
    # "bn" get BN.WEIGHT_DECAY, all others SOLVER.WEIGHT_DECAY; no TimeSformer name holds
    # "bn", so every tensor is decayed by SOLVER.WEIGHT_DECAY.
    model = build_bare_model(tiny_cfg("", "", *TINY_MODEL))
    names = [name for name, _ in model.named_parameters()]
    assert not any("bn" in name for name in names)
    cfg = get_cfg()
    optimizer = build_optimizer(model, cfg)
    (group,) = optimizer.param_groups
    assert group["weight_decay"] == cfg.SOLVER.WEIGHT_DECAY == 1e-4
    assert _names(model, group["params"]) == sorted(names)


def test_zero_wd_1d_param_exempts_biases_norms_and_embeddings():
    model = _Tiny()
    decay, no_decay = param_groups(model, 0.05, zero_wd_1d_param=True)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert _names(model, decay["params"]) == ["proj.weight"]
    assert _names(model, no_decay["params"]) == [
        "cls_token",
        "norm.bias",
        "norm.weight",
        "pos_embed",
        "proj.bias",
        "time_embed",
    ]


@pytest.mark.parametrize(
    "method, kind",
    [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)],
)
def test_method_and_settings(method, kind):
    cfg = get_cfg()
    cfg.SOLVER.OPTIMIZING_METHOD = method
    cfg.SOLVER.BASE_LR = 0.3
    optimizer = build_optimizer(_Tiny(), cfg)
    assert type(optimizer) is kind
    assert optimizer.param_groups[0]["lr"] == 0.3
    if method == "sgd":
        assert (
            optimizer.param_groups[0]["momentum"] == 0.9 and optimizer.param_groups[0]["nesterov"]
        )
    set_lr(optimizer, 0.01)
    assert all(group["lr"] == 0.01 for group in optimizer.param_groups)


@pytest.mark.parametrize("method", ["adam", "adamw"])
def test_adam_steps_are_the_originals(method):
    """The original's Adam: weight decay added to the gradient (L2); its AdamW: decoupled. Both
    with betas (0.9, 0.999) and eps 1e-8. Three steps against torch's reference implementation
    of those settings."""
    cfg = get_cfg()
    cfg.SOLVER.OPTIMIZING_METHOD, cfg.SOLVER.BASE_LR, cfg.SOLVER.WEIGHT_DECAY = method, 0.1, 0.5
    torch.manual_seed(0)
    ours, reference = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    reference.load_state_dict(ours.state_dict())
    original = torch.optim.Adam if method == "adam" else torch.optim.AdamW
    optimizers = [
        build_optimizer(ours, cfg),
        original(reference.parameters(), lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5),
    ]
    batch = torch.randn(4, 3)
    for _ in range(3):
        for model, optimizer in zip((ours, reference), optimizers, strict=True):
            optimizer.zero_grad()
            (model(batch) ** 2).sum().backward()
            optimizer.step()
    for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_zero_wd_1d_param_key_builds_the_two_groups():
    model = build_bare_model(tiny_cfg("", "", *TINY_MODEL))
    cfg = get_cfg()
    cfg.SOLVER.ZERO_WD_1D_PARAM = True
    decay, no_decay = build_optimizer(model, cfg).param_groups
    assert decay["weight_decay"] == 1e-4 and no_decay["weight_decay"] == 0.0
    exempt = _names(model, no_decay["params"])
    assert "model.pos_embed" in exempt and "model.blocks.0.attn.qkv.bias" in exempt
    assert all(p.ndim > 1 for p in decay["params"]) and "model.head.weight" not in exempt
