"""Optimizer construction: methods, which parameters decay, layer-wise learning-rate decay."""

import pytest
import torch

from helpers import TINY_MODEL, tiny_cfg
from timesformer.config import get_cfg
from timesformer.models.build import build_bare_model
from timesformer.models.layer_decay import count_blocks, layer_id
from timesformer.models.optimizer import build_optimizer, param_groups, set_lr
from timesformer.utils.lr_policy import get_lr_at_epoch


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


# ---------------------------------------------------------------------------- #
# Layer-wise learning-rate decay (SOLVER.LAYER_DECAY)
# ---------------------------------------------------------------------------- #

DECAY = 0.5


def _depth3_model():
    """A divided space-time TimeSformer of 3 blocks."""
    return build_bare_model(tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.DEPTH", "3"))


def _group_of(model, groups):
    """Parameter name -> the one group that holds it (asserting it is in exactly one)."""
    by_id = {id(p): n for n, p in model.named_parameters()}
    found: dict[str, dict] = {}
    for group in groups:
        for param in group["params"]:
            name = by_id[id(param)]
            assert name not in found, f"{name} is in two groups"
            found[name] = group
    return found


@pytest.mark.parametrize("zero_wd_1d_param", [False, True])
def test_layer_decay_groups_scale_each_layer(zero_wd_1d_param):
    model = _depth3_model()
    groups = param_groups(model, 0.05, zero_wd_1d_param, layer_decay=DECAY)
    group_of = _group_of(model, groups)
    assert sorted(group_of) == sorted(name for name, _ in model.named_parameters())
    expected = {
        "model.head.weight": 1.0,
        "model.head.bias": 1.0,
        "model.norm.weight": 1.0,
        "model.blocks.2.mlp.fc1.weight": DECAY,
        "model.blocks.1.temporal_attn.qkv.weight": DECAY**2,
        "model.blocks.0.attn.qkv.bias": DECAY**3,
        "model.pos_embed": DECAY**4,
        "model.time_embed": DECAY**4,
        "model.cls_token": DECAY**4,
        "model.patch_embed.proj.weight": DECAY**4,
    }
    for name, scale in expected.items():
        assert group_of[name]["lr_scale"] == pytest.approx(scale, rel=1e-12), name
    # 5 layers (embeddings, 3 blocks, head and norm), each split in two by the weight decay.
    assert len(groups) == (10 if zero_wd_1d_param else 5)
    assert [group["layer_id"] for group in groups] == sorted(g["layer_id"] for g in groups)
    no_decay = 0.0 if zero_wd_1d_param else 0.05
    assert group_of["model.pos_embed"]["weight_decay"] == no_decay
    assert group_of["model.blocks.0.attn.qkv.bias"]["weight_decay"] == no_decay
    assert group_of["model.blocks.0.attn.qkv.weight"]["weight_decay"] == 0.05
    assert group_of["model.head.weight"]["weight_decay"] == 0.05


def test_layer_decay_reads_names_through_wrappers():
    """DistributedDataParallel (``module.``) and torch.compile (``_orig_mod.``) prefixes, or the
    bare network (no ``model.``), give the same layers."""
    for prefix in ("", "model.", "module.model.", "_orig_mod.module.model."):
        assert layer_id(prefix + "pos_embed", 12) == 0
        assert layer_id(prefix + "patch_embed.proj.bias", 12) == 0
        assert layer_id(prefix + "blocks.11.temporal_fc.weight", 12) == 12
        assert layer_id(prefix + "blocks.0.norm1.weight", 12) == 1
        assert layer_id(prefix + "norm.weight", 12) == 13
        assert layer_id(prefix + "head.bias", 12) == 13
    assert count_blocks(["module.model.blocks.0.mlp.fc1.weight", "model.blocks.2.norm2.bias"]) == 3

    class _Wrapper(torch.nn.Module):  # as DistributedDataParallel holds a model
        def __init__(self, module):
            super().__init__()
            self.module = module

    model = _depth3_model()
    bare = [g["lr_scale"] for g in param_groups(model, 0.0, layer_decay=DECAY)]
    wrapped = [g["lr_scale"] for g in param_groups(_Wrapper(model), 0.0, layer_decay=DECAY)]
    assert wrapped == bare == [DECAY**4, DECAY**3, DECAY**2, DECAY, 1.0]


def test_set_lr_composes_the_policy_lr_with_each_layer_scale(caplog):
    cfg = tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.DEPTH", "3", "SOLVER.LAYER_DECAY", "0.5")
    model = build_bare_model(cfg)
    with caplog.at_level("INFO", logger="timesformer.models.optimizer"):
        optimizer = build_optimizer(model, cfg)
    assert (
        "Layer-wise LR decay 0.5 (SOLVER.LAYER_DECAY): head and norm x1, block 2 x0.5, "
        "block 1 x0.25, block 0 x0.125, embeddings x0.0625" in caplog.text
    )
    group_of = _group_of(model, optimizer.param_groups)
    assert group_of["model.head.weight"]["lr"] == cfg.SOLVER.BASE_LR  # as built
    assert group_of["model.pos_embed"]["lr"] == pytest.approx(cfg.SOLVER.BASE_LR / 16)
    lr = get_lr_at_epoch(cfg, 0.7)  # the cosine policy's, somewhere in the run
    assert 0 < lr < cfg.SOLVER.BASE_LR
    set_lr(optimizer, lr)
    assert group_of["model.head.weight"]["lr"] == lr
    assert group_of["model.blocks.2.attn.proj.weight"]["lr"] == pytest.approx(lr * 0.5)
    assert group_of["model.blocks.0.mlp.fc2.bias"]["lr"] == pytest.approx(lr * 0.125)
    assert group_of["model.cls_token"]["lr"] == pytest.approx(lr * 0.0625)


@pytest.mark.parametrize("zero_wd_1d_param", [False, True])
def test_layer_decay_1_keeps_the_groups_of_before(zero_wd_1d_param):
    """LAYER_DECAY 1.0: the groups, their keys, order and parameter order of before (the
    original's one group, or ZERO_WD_1D_PARAM's two), written out."""
    model = _depth3_model()
    named = list(model.named_parameters())
    if zero_wd_1d_param:
        exempt = ("pos_embed", "cls_token", "time_embed")
        decays = [p.ndim > 1 and n.rsplit(".", 1)[-1] not in exempt for n, p in named]
        before = [
            {"params": [p for (_, p), d in zip(named, decays, strict=True) if d], "wd": 0.05},
            {"params": [p for (_, p), d in zip(named, decays, strict=True) if not d], "wd": 0.0},
        ]
    else:
        before = [{"params": [p for _, p in named], "wd": 0.05}]
    groups = param_groups(model, 0.05, zero_wd_1d_param, layer_decay=1.0)
    assert [set(group) for group in groups] == [{"params", "weight_decay"}] * len(before)
    for group, old in zip(groups, before, strict=True):
        assert group["weight_decay"] == old["wd"]
        assert [id(p) for p in group["params"]] == [id(p) for p in old["params"]]
    cfg = get_cfg()
    cfg.SOLVER.ZERO_WD_1D_PARAM = zero_wd_1d_param
    optimizer = build_optimizer(model, cfg)
    assert all("lr_scale" not in group for group in optimizer.param_groups)
    set_lr(optimizer, 0.125)
    assert [group["lr"] for group in optimizer.param_groups] == [0.125] * len(before)


def test_frozen_parameters_are_in_no_layer_group():
    model = _depth3_model()
    frozen = [p for n, p in model.named_parameters() if not n.startswith("model.head")]
    for param in frozen:
        param.requires_grad_(False)
    for zero_wd_1d_param in (False, True):
        groups = param_groups(model, 0.05, zero_wd_1d_param, layer_decay=DECAY)
        assert sorted(_group_of(model, groups)) == ["model.head.bias", "model.head.weight"]
        assert {group["lr_scale"] for group in groups} == {1.0}
