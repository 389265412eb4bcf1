"""The CUDA path: mixed precision, the exact shortcuts, fused attention, activation
checkpointing, an NCCL process group, a whole run with pinned-memory loader workers, and
torch.compile. Every test here carries the ``cuda`` marker and is skipped without a GPU
(``tools/gpu_check.sh`` runs them first thing on a GPU machine)."""

import os

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from helpers import TINY_MODEL, json_stats, run_net, tiny_args, tiny_cfg, write_color_dataset
from timesformer.engine.launch import run_process
from timesformer.models.attention import Attention
from timesformer.models.attention_types import attention_type_names
from timesformer.models.build import build_model
from timesformer.utils.precision import autocast_context, build_grad_scaler

pytestmark = pytest.mark.cuda

# A model whose heads are 64 wide, as in ViT-B: the head width SDPA's fused kernels serve.
WIDE_HEADS = ["TIMESFORMER.EMBED_DIM", "128", "TIMESFORMER.NUM_HEADS", "2", "NUM_GPUS", "1"]


def _model(*overrides: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(tiny_cfg("", "", *TINY_MODEL, *WIDE_HEADS, *overrides))
    with torch.no_grad():  # the official init starts temporal_fc at zero: give every path a say
        for parameter in model.parameters():
            parameter.add_(0.02 * torch.randn_like(parameter))
    return model


def _clips(batch: int = 2, frames: int = 4, size: int = 32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(batch, 3, frames, size, size, generator=generator).cuda()


def _gradients(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.float().flatten() for p in model.parameters() if p.grad is not None])


def _relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    return ((value - reference).norm() / reference.norm()).item()


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_mixed_precision_step_is_finite_and_follows_fp32(dtype):
    model = _model("TIMESFORMER.DROP_PATH_RATE", "0.0", "MODEL.DROPOUT_RATE", "0.0")
    clips, labels = _clips(), torch.tensor([0, 3]).cuda()
    F.cross_entropy(model(clips), labels).backward()
    fp32_gradients = _gradients(model)
    model.zero_grad(set_to_none=True)

    cfg = tiny_cfg("", "", *WIDE_HEADS, "TRAIN.MIXED_PRECISION", "True")
    cfg.TRAIN.MIXED_PRECISION_DTYPE = dtype
    scaler = build_grad_scaler(cfg)
    assert (scaler is not None) == (dtype == "fp16")
    with autocast_context(cfg):
        loss = F.cross_entropy(model(clips), labels)
    assert torch.isfinite(loss)
    (scaler.scale(loss) if scaler is not None else loss).backward()
    if scaler is not None:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        scaler.unscale_(optimizer)  # the gradients as the optimizer would see them
    gradients = _gradients(model)
    assert torch.isfinite(gradients).all()
    assert _relative_error(gradients, fp32_gradients) < (0.05 if dtype == "bf16" else 0.01)


@pytest.mark.parametrize("attention_type", attention_type_names())
def test_shortcuts_equal_every_token_through_every_layer_on_cuda(attention_type):
    model = _model(
        "TIMESFORMER.ATTENTION_TYPE", attention_type, "TIMESFORMER.DROP_PATH_RATE", "0.0"
    )
    model.eval()
    clips = _clips()
    results = []
    for shortcuts in (True, False):
        model.model.shortcuts = shortcuts
        model.zero_grad(set_to_none=True)
        logits = model(clips)
        logits.logsumexp(dim=1).sum().backward()
        results.append((logits.detach(), _gradients(model)))
    (fast, fast_gradients), (full, full_gradients) = results
    torch.testing.assert_close(fast, full, rtol=1e-4, atol=1e-4)
    assert _relative_error(fast_gradients, full_gradients) < 1e-4


def test_attention_with_64_wide_heads_runs_on_a_fused_kernel_in_bf16():
    attention = Attention(dim=128, num_heads=2).cuda()
    tokens = torch.randn(4, 2, 197, 128, device="cuda", requires_grad=True)
    # With the math backend excluded, SDPA raises unless a fused kernel takes the call.
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = attention(tokens)
        out.float().sum().backward()
    assert out.shape == tokens.shape and torch.isfinite(tokens.grad).all()


def _step_gradients_and_peak(
    model: torch.nn.Module, clips: torch.Tensor
) -> tuple[torch.Tensor, int]:
    model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    baseline = torch.cuda.memory_allocated()
    model(clips).logsumexp(dim=1).sum().backward()
    torch.cuda.synchronize()
    return _gradients(model), torch.cuda.max_memory_allocated() - baseline


def test_activation_checkpointing_gives_the_same_gradients_in_less_memory():
    overrides = [
        "TIMESFORMER.DEPTH",
        "4",
        "TIMESFORMER.DROP_PATH_RATE",
        "0.0",
        "DATA.NUM_FRAMES",
        "8",
    ]
    model = _model(*overrides, "MODEL.DROPOUT_RATE", "0.0").train()
    clips = _clips(batch=4, frames=8, size=64)
    gradients, peak = _step_gradients_and_peak(model, clips)
    model.model.activation_checkpointing = True
    checkpointed_gradients, checkpointed_peak = _step_gradients_and_peak(model, clips)
    assert _relative_error(checkpointed_gradients, gradients) < 1e-5
    assert checkpointed_peak < 0.7 * peak


def _all_reduce_on_nccl(cfg) -> None:
    """Spawn-free body of a 1-process group: the backend it runs on and an all-reduce."""
    tensor = torch.ones(1, device="cuda")
    torch.distributed.all_reduce(tensor)
    backend, world_size = torch.distributed.get_backend(), torch.distributed.get_world_size()
    with open(os.path.join(cfg.OUTPUT_DIR, "nccl.txt"), "w") as stream:
        stream.write(f"{backend} {world_size} {tensor.item()}")


def test_a_one_process_nccl_group_forms_through_the_launcher(tmp_path):
    cfg = tiny_cfg("", str(tmp_path), "NUM_GPUS", "1", "DIST_BACKEND", "nccl")
    port = 29500 + os.getpid() % 1000
    # launch_job runs this body in each process it starts; one process, one GPU.
    run_process(0, 1, _all_reduce_on_nccl, f"tcp://127.0.0.1:{port}", 0, 1, "nccl", cfg)
    assert (tmp_path / "nccl.txt").read_text() == "nccl 1 1.0"


def test_run_net_trains_and_tests_on_one_gpu_with_pinned_loader_workers(tmp_path):
    data = write_color_dataset(str(tmp_path / "data"))
    out = str(tmp_path / "run")
    overrides = ["NUM_GPUS", "1", "DATA_LOADER.NUM_WORKERS", "2", "DATA_LOADER.PIN_MEMORY", "True"]
    assert run_net(tiny_args(data, out, *overrides)) == 0
    records = json_stats(out)
    assert [r["split"] for r in records].count("train_epoch") == 2
    assert records[-1]["split"] == "test_final" and records[-1]["videos"] == 8
    assert all("gpu_mem_gb" in r for r in records if r["split"] == "train_epoch")


def test_compiled_model_gives_the_eager_logits():
    eager = _model().eval()
    compiled = _model("MODEL.COMPILE", "True").eval()  # the same seed: the same weights
    clips = _clips()
    with torch.no_grad():
        torch.testing.assert_close(compiled(clips), eager(clips), rtol=1e-4, atol=1e-4)
