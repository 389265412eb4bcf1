"""Frozen parts for fine-tuning (TRAIN.LINEAR_PROBE, TRAIN.FREEZE_BLOCKS): what trains through
real training steps, which modules are in eval mode, two processes, and the config checks."""

import os
import socket

import pytest
import torch

from helpers import (
    TINY_MODEL,
    random_state,
    tiny_cfg,
    train_and_save_rank_weights,
    write_color_dataset,
)
from timesformer.config import ConfigError, assert_and_infer_cfg, get_cfg
from timesformer.config.merge import merge_overrides
from timesformer.engine.launch import launch_job
from timesformer.engine.trainer import train_epoch
from timesformer.models import build_model
from timesformer.models.freezing import frozen_modules, set_train_mode
from timesformer.models.optimizer import build_optimizer
from timesformer.utils.meters import TrainMeter

EMBEDDINGS = ("model.cls_token", "model.pos_embed", "model.time_embed", "model.patch_embed.")


def _batches(count: int, batch_size: int = 4) -> list:
    """``count`` loader batches of random (batch_size, 3, 4, 32, 32) clips of TINY_MODEL's 5
    classes, as the training loader yields them."""
    generator = torch.Generator().manual_seed(1)
    return [
        (
            torch.randn(batch_size, 3, 4, 32, 32, generator=generator),
            torch.randint(0, 5, (batch_size,), generator=generator),
            torch.arange(batch_size),
            {"num_decode_failures": torch.zeros(batch_size, dtype=torch.long)},
        )
        for _ in range(count)
    ]


def _trained(*overrides: str):
    """A TINY_MODEL built as a run builds it, trained 3 optimizer steps by ``train_epoch``; returns
    (model, its parameters before, optimizer)."""
    cfg = tiny_cfg("", "", *TINY_MODEL, "SOLVER.WEIGHT_DECAY", "0.01", *overrides)
    torch.manual_seed(0)
    model = build_model(cfg)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = build_optimizer(model, cfg)
    batches = _batches(3)  # GLOBAL_BATCH_SIZE = TRAIN.BATCH_SIZE: one step per batch
    train_epoch(batches, model, optimizer, None, TrainMeter(len(batches), cfg), 0, cfg)
    return model, before, optimizer


def _optimized_names(model, optimizer) -> list[str]:
    by_id = {id(p): name for name, p in model.named_parameters()}
    return sorted(by_id[id(p)] for group in optimizer.param_groups for p in group["params"])


def _assert_frozen_and_unmoved(model, before, names):
    params = dict(model.named_parameters())
    for name in names:
        assert not params[name].requires_grad and params[name].grad is None, name
        assert torch.equal(params[name], before[name]), name


def _moved(model, before, name) -> bool:
    return not torch.equal(dict(model.named_parameters())[name], before[name])


def test_linear_probe_trains_the_head_alone():
    model, before, optimizer = _trained("TRAIN.LINEAR_PROBE", "True")
    head = ["model.head.bias", "model.head.weight"]
    assert _optimized_names(model, optimizer) == head
    backbone = [name for name in before if name not in head]
    assert any(name.startswith("model.blocks.1.") for name in backbone)
    assert "model.norm.weight" in backbone and "model.pos_embed" in backbone
    _assert_frozen_and_unmoved(model, before, backbone)
    assert all(_moved(model, before, name) for name in head)


def test_linear_probe_modes_frozen_modules_eval_head_and_its_dropout_train():
    cfg = tiny_cfg("", "", *TINY_MODEL, "TRAIN.LINEAR_PROBE", "True")
    model = build_model(cfg).eval()
    set_train_mode(model, cfg)
    network = model.model
    assert model.training and network.training
    for module in (network.patch_embed, network.blocks, network.norm):
        assert not any(sub.training for sub in module.modules())
    assert network.head.training and network.head_drop.training
    assert network.head_drop.p == 0.5  # MODEL.HEAD_DROPOUT_RATE: active while the head trains


def test_frozen_blocks_have_no_drop_path_in_train_mode():
    """Drop path 0.9 in the last block: two forward passes differ in plain train mode, not when
    set_train_mode has the frozen blocks in eval mode."""
    cfg = tiny_cfg(
        "", "", *TINY_MODEL, "TIMESFORMER.DROP_PATH_RATE", "0.9", "TRAIN.FREEZE_BLOCKS", "2"
    )
    model = build_model(cfg)
    clips = _batches(1, batch_size=16)[0][0]
    torch.manual_seed(0)
    model.train()
    assert not torch.equal(model.forward_features(clips), model.forward_features(clips))
    set_train_mode(model, cfg)
    assert torch.equal(model.forward_features(clips), model.forward_features(clips))


def test_freeze_blocks_1_of_2_freezes_the_embeddings_and_block_0():
    model, before, optimizer = _trained("TRAIN.FREEZE_BLOCKS", "1")
    frozen = [name for name in before if name.startswith((*EMBEDDINGS, "model.blocks.0."))]
    assert {"model.cls_token", "model.time_embed", "model.patch_embed.proj.weight"} <= set(frozen)
    _assert_frozen_and_unmoved(model, before, frozen)
    trained = sorted(name for name in before if name not in frozen)
    assert _optimized_names(model, optimizer) == trained
    for name in ("model.blocks.1.attn.qkv.weight", "model.blocks.1.mlp.fc2.weight"):
        assert _moved(model, before, name), name
    assert _moved(model, before, "model.head.weight") and _moved(model, before, "model.norm.bias")
    network = model.model
    assert frozen_modules(model, get_cfg()) == []  # nothing frozen by default
    assert not network.patch_embed.training and not network.blocks[0].training
    assert network.blocks[1].training and network.head.training


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


def test_linear_probe_in_two_processes(tmp_path):
    """NUM_PROCS 2 over gloo: DistributedDataParallel takes the model with its backbone frozen;
    both processes end with the same weights, the backbone that of the fine-tuned checkpoint."""
    data = write_color_dataset(str(tmp_path / "data"))
    source = str(tmp_path / "source.pyth")
    weights = {name: 0.2 * value for name, value in random_state(build_model(tiny_cfg())).items()}
    torch.save(weights, source)
    out = str(tmp_path / "out")
    cfg = tiny_cfg(
        data,
        out,
        *("SOLVER.MAX_EPOCH", "1", "NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "8"),
        *("GLOBAL_BATCH_SIZE", "8", "TEST.BATCH_SIZE", "4", "TRAIN.LINEAR_PROBE", "True"),
        *("TRAIN.CHECKPOINT_FILE_PATH", source, "TRAIN.FINETUNE", "True"),
    )
    launch_job(cfg, f"tcp://127.0.0.1:{_free_port()}", train_and_save_rank_weights)
    ranks = [torch.load(os.path.join(out, f"rank{rank}.pt")) for rank in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys() == weights.keys()
    for name, value in weights.items():
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        moved = not torch.equal(ranks[0][name], value)
        assert moved == name.startswith("model.head."), name


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["SOLVER.LAYER_DECAY", "0.0"], r"SOLVER\.LAYER_DECAY is 0\.0; expected 0 < value <= 1"),
        (["SOLVER.LAYER_DECAY", "1.5"], r"SOLVER\.LAYER_DECAY is 1\.5; expected 0 < value <= 1"),
        (
            ["TRAIN.FREEZE_BLOCKS", "13"],
            r"TRAIN\.FREEZE_BLOCKS is 13; expected 0 \.\. TIMESFORMER\.DEPTH \(12\)",
        ),
        (["TRAIN.FREEZE_BLOCKS", "-1"], r"TRAIN\.FREEZE_BLOCKS is -1"),
        (
            ["TRAIN.LINEAR_PROBE", "True", "TRAIN.FREEZE_BLOCKS", "2"],
            r"TRAIN\.LINEAR_PROBE .*TRAIN\.FREEZE_BLOCKS \(2\) must then be 0",
        ),
    ],
)
def test_config_errors_name_the_key(overrides, message):
    cfg = merge_overrides(get_cfg(), overrides)
    with pytest.raises(ConfigError, match=message):
        assert_and_infer_cfg(cfg, check_devices=False)
