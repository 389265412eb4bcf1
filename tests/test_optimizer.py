"""Optimizer construction: methods and which parameters decay."""

import pytest
import torch

from timesformer.config import get_cfg
from timesformer.models.optimizer import construct_optimizer, param_groups, set_lr


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


def test_no_decay_for_biases_norms_and_embeddings():
    model = _Tiny()
    decay, no_decay = param_groups(model, 0.05)
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


@pytest.mark.parametrize("method, kind", [("sgd", torch.optim.SGD), ("adamw", torch.optim.AdamW)])
def test_method_and_settings(method, kind):
    cfg = get_cfg()
    cfg.SOLVER.OPTIMIZING_METHOD = method
    cfg.SOLVER.BASE_LR = 0.3
    optimizer = construct_optimizer(_Tiny(), cfg)
    assert isinstance(optimizer, kind)
    assert optimizer.param_groups[0]["lr"] == 0.3
    if method == "sgd":
        assert (
            optimizer.param_groups[0]["momentum"] == 0.9 and optimizer.param_groups[0]["nesterov"]
        )
    set_lr(optimizer, 0.01)
    assert all(group["lr"] == 0.01 for group in optimizer.param_groups)
