"""The TimeSformer model: shapes, parameter names, gradients, the exact shortcuts, initialization,
drop rates, activation checkpointing, other input sizes, the README's class."""

import pytest
import torch
import torch.nn.functional as F

import timesformer.models.vit as vit_module
from helpers import TINY_MODEL, randomize_, tiny_cfg
from timesformer.models import TimeSformer, build_model
from timesformer.models.attention_types import attention_type_names
from timesformer.models.embeddings import resize_pos_embed

BLOCK_MEMBERS = ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2")
TEMPORAL_MEMBERS = ("temporal_norm1", "temporal_attn.qkv", "temporal_attn.proj", "temporal_fc")


def expected_names(attention_type, depth=2):
    names = [
        "model.cls_token",
        "model.pos_embed",
        "model.patch_embed.proj.weight",
        "model.patch_embed.proj.bias",
    ]
    if attention_type != "space_only":
        names.append("model.time_embed")
    members = BLOCK_MEMBERS + (TEMPORAL_MEMBERS if attention_type == "divided_space_time" else ())
    for index in range(depth):
        names += [
            f"model.blocks.{index}.{member}.{leaf}"
            for member in members
            for leaf in ("weight", "bias")
        ]
    names += ["model.norm.weight", "model.norm.bias", "model.head.weight", "model.head.bias"]
    return sorted(names)


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_parameter_names_are_the_official_ones(attention_type):
    model = build_model(tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", attention_type))
    assert sorted(model.state_dict()) == expected_names(attention_type)


@pytest.mark.parametrize("attention_type", attention_type_names())
@pytest.mark.parametrize(
    "frames, height, width",
    [(4, 32, 32), (2, 32, 32), (6, 32, 32), (4, 48, 48), (3, 16, 40)],
    ids=["configured", "fewer-frames", "more-frames", "larger-crop", "smaller-nonsquare"],
)
def test_logits_and_features_shapes(attention_type, frames, height, width):
    model = build_model(
        tiny_cfg("", "", *TINY_MODEL, "TIMESFORMER.ATTENTION_TYPE", attention_type)
    ).eval()
    clip = torch.randn(2, 3, frames, height, width)
    with torch.no_grad():
        logits = model(clip)
        features = model.forward_features(clip)
    assert logits.shape == (2, 5)
    assert features.shape == (2, 32)
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(model.model.head(features), logits)


@pytest.mark.parametrize("attention_type", attention_type_names())
@pytest.mark.parametrize(
    "frames, size", [(4, 32), (6, 48)], ids=["configured", "resized-embeddings"]
)
def test_gradients_reach_every_parameter(attention_type, frames, size):
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "TIMESFORMER.ATTENTION_TYPE",
        attention_type,
        "MODEL.HEAD_DROPOUT_RATE",
        "0.0",
        "TIMESFORMER.DROP_PATH_RATE",
        "0.0",
    )
    model = randomize_(build_model(cfg)).train()  # stochastic depth would zero whole branches
    model(torch.randn(2, 3, frames, size, size)).logsumexp(dim=1).sum().backward()
    without_gradient = [
        name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0
    ]
    assert without_gradient == []


def test_batch_elements_are_independent():
    """Changing one clip of the batch leaves the other clip's logits unchanged (no mixing over
    B)."""
    model = randomize_(build_model(tiny_cfg("", "", *TINY_MODEL))).eval()
    clips = torch.randn(2, 3, 4, 32, 32)
    changed = clips.clone()
    changed[1] = torch.randn(3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(clips)[0], model(changed)[0])


def test_temporal_fc_and_time_embed_start_at_zero():
    model = build_model(tiny_cfg("", "", *TINY_MODEL)).model
    assert torch.count_nonzero(model.time_embed) == 0
    for block in model.blocks:
        assert torch.count_nonzero(block.temporal_fc.weight) == 0
        assert torch.count_nonzero(block.temporal_fc.bias) == 0
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.02, rel=0.1)


def test_init_std_keys_set_linear_layers_and_time_embedding_for_training_from_scratch():
    torch.manual_seed(0)
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "TIMESFORMER.INIT_STD",
        "0.2",
        "TIMESFORMER.TIME_EMBED_INIT_STD",
        "1.0",
        "TIMESFORMER.EMBED_DIM",
        "64",
    )
    model = build_model(cfg).model
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.2, rel=0.1)
    assert model.head.weight.std().item() == pytest.approx(0.2, rel=0.1)
    # Truncated at +-2: std of a unit normal cut at two standard deviations, 0.88.
    assert model.time_embed.std().item() == pytest.approx(0.88, rel=0.15)
    assert model.time_embed.abs().max().item() <= 2.0
    # temporal_fc stays zero (the divided block starts as an image block) and the
    # position embedding keeps the official std.
    assert torch.count_nonzero(model.blocks[0].temporal_fc.weight) == 0
    assert model.pos_embed.std().item() == pytest.approx(0.02, rel=0.3)


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_shortcuts_give_the_results_of_every_token_through_every_layer(attention_type):
    """CLS-only last block with keys and values folded into its query, and the folded temporal
    projections: the same logits and gradients, with stochastic depth drawing alike."""
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "TIMESFORMER.ATTENTION_TYPE",
        attention_type,
        "TIMESFORMER.DEPTH",
        "3",
        "TIMESFORMER.DROP_PATH_RATE",
        "0.3",
        "MODEL.HEAD_DROPOUT_RATE",
        "0.0",
    )
    model = randomize_(build_model(cfg)).train()
    clip = torch.randn(3, 3, 4, 32, 32)
    results = []
    for shortcuts in (True, False):
        model.model.shortcuts = shortcuts
        model.zero_grad()
        torch.manual_seed(0)
        logits = model(clip)
        logits.logsumexp(dim=1).sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (fast, fast_grads), (full, full_grads) = results
    torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-5)
    for fast_grad, full_grad in zip(fast_grads, full_grads, strict=True):
        torch.testing.assert_close(fast_grad, full_grad, rtol=1e-4, atol=1e-5)


def test_drop_path_rises_linearly_over_depth_and_dropout_precedes_head():
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "TIMESFORMER.DEPTH",
        "3",
        "TIMESFORMER.DROP_PATH_RATE",
        "0.2",
        "MODEL.HEAD_DROPOUT_RATE",
        "0.3",
    )
    model = build_model(cfg).model
    rates = [getattr(block.drop_path, "drop_prob", 0.0) for block in model.blocks]
    assert rates == pytest.approx([0.0, 0.1, 0.2])
    assert model.head_drop.p == 0.3


def test_head_dropout_is_active_in_training_only():
    model = randomize_(
        build_model(
            tiny_cfg(
                "",
                "",
                *TINY_MODEL,
                "TIMESFORMER.DROP_PATH_RATE",
                "0.0",
                "MODEL.HEAD_DROPOUT_RATE",
                "0.5",
            )
        )
    )
    clip = torch.randn(2, 3, 4, 32, 32)
    model.train()
    with torch.no_grad():
        assert not torch.equal(model(clip), model(clip))
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(clip), model(clip))


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_activation_checkpointing_gives_the_same_gradients(attention_type, monkeypatch):
    cfg = tiny_cfg(
        "",
        "",
        *TINY_MODEL,
        "TIMESFORMER.ATTENTION_TYPE",
        attention_type,
        "TIMESFORMER.DROP_PATH_RATE",
        "0.2",
        "MODEL.HEAD_DROPOUT_RATE",
        "0.0",
    )
    plain = randomize_(build_model(cfg)).train()
    cfg.TIMESFORMER.ACTIVATION_CHECKPOINTING = True
    checkpointed = randomize_(build_model(cfg)).train()
    calls = []
    real_checkpoint = vit_module.checkpoint
    monkeypatch.setattr(
        vit_module, "checkpoint", lambda *a, **k: calls.append(1) or real_checkpoint(*a, **k)
    )
    clip = torch.randn(2, 3, 4, 32, 32)
    for model in (plain, checkpointed):
        torch.manual_seed(1)  # same stochastic-depth draws in both
        model(clip).logsumexp(dim=1).sum().backward()
    assert len(calls) == cfg.TIMESFORMER.DEPTH
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, msg=name)


def test_model_at_another_size_uses_resized_embeddings():
    """A clip of other size equals the model whose embeddings were resized to that size
    beforehand."""
    cfg = tiny_cfg("", "", *TINY_MODEL)
    model = randomize_(build_model(cfg)).eval()
    cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.NUM_FRAMES = 48, 6
    resized = build_model(cfg).eval()
    state = model.state_dict()
    state["model.pos_embed"] = resize_pos_embed(state["model.pos_embed"], (6, 6))
    state["model.time_embed"] = F.interpolate(
        state["model.time_embed"].transpose(1, 2), size=6
    ).transpose(1, 2)
    resized.load_state_dict(state)
    clip = torch.randn(1, 3, 6, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(clip), resized(clip))


def test_timesformer_class_takes_the_readme_arguments():
    model = TimeSformer(
        img_size=32,
        patch_size=8,
        num_classes=7,
        num_frames=2,
        attention_type="divided_space_time",
        embed_dim=16,
        depth=1,
        num_heads=2,
    )
    assert model(torch.randn(1, 3, 2, 32, 32)).shape == (1, 7)
    assert "model.blocks.0.temporal_fc.weight" in model.state_dict()
    with pytest.raises(ValueError, match="attention_type is 'spatial'"):
        TimeSformer(attention_type="spatial", depth=1)
