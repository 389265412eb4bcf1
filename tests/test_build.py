"""build_model: on the CPU without GPUs, unknown names listed, DistributedDataParallel and
torch.compile wrapping, and weights saved from the wrappers loading back."""

import pytest
import torch

import timesformer.models.build as build_module
from helpers import TINY_MODEL, tiny_cfg
from timesformer.checkpoint.formats import load_model_weights
from timesformer.models import MODEL_REGISTRY, build_model


def test_build_model_stays_on_cpu_without_gpus_and_unwrapped_in_one_process():
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    assert type(model).__name__ == "vit_base_patch16_224"
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_build_model_unknown_name_lists_registered_models():
    cfg = tiny_cfg("", "", *TINY_MODEL)
    cfg.MODEL.MODEL_NAME = "vit_huge"
    with pytest.raises(KeyError, match="'vit_huge'.*vit_base_patch16_224"):
        build_model(cfg)
    assert "vit_base_patch16_224" in MODEL_REGISTRY


@pytest.fixture
def one_process_group(tmp_path):
    """A gloo process group of this one process (DistributedDataParallel needs one)."""
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    yield
    torch.distributed.destroy_process_group()


def test_build_model_wraps_in_ddp_when_distributed(one_process_group, monkeypatch, tmp_path):
    monkeypatch.setattr(build_module, "get_world_size", lambda: 2)
    model = build_model(tiny_cfg("", "", *TINY_MODEL))
    assert isinstance(model, torch.nn.parallel.DistributedDataParallel)
    assert model.device_ids is None  # CPU / gloo
    assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 5)
    torch.save({"model_state": model.state_dict()}, tmp_path / "ddp.pyth")  # keys: module.model.*
    fresh = build_model(tiny_cfg("", "", *TINY_MODEL))
    load_model_weights(fresh, str(tmp_path / "ddp.pyth"))
    torch.testing.assert_close(fresh.module.model.pos_embed, model.module.model.pos_embed)


def test_build_model_compiles_when_asked(tmp_path):
    model = build_model(tiny_cfg("", "", *TINY_MODEL, "MODEL.COMPILE", "True"))
    assert isinstance(model, torch._dynamo.eval_frame.OptimizedModule)
    state = model.state_dict()  # keys: _orig_mod.model.*
    torch.save(state, tmp_path / "compiled.pth")
    plain = build_model(tiny_cfg("", "", *TINY_MODEL))
    load_model_weights(plain, str(tmp_path / "compiled.pth"))
    torch.testing.assert_close(plain.model.pos_embed, state["_orig_mod.model.pos_embed"])
