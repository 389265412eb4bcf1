#!/usr/bin/env python3
"""Model benchmark: our TimeSformer against Hugging Face's, same shapes, same weights, one run.

    python tools/benchmark_model.py [--embed-dim 384 --depth 4 --heads 6 --batch 2 --frames 8 32
        --size 112 --attention divided_space_time joint_space_time --dtype fp32 --device cpu
        --steps 3 --repeats 5 --threads 1 --compile --reference-dtype fp32 --no-memory --profile]

For each attention type and clip length it reports, for our ``VisionTransformer``
and for ``transformers.TimesformerForVideoClassification`` (the reference, a
faithful port of the official code) loaded with the same weights:

* training throughput (clips/s of a whole step: forward, cross-entropy, backward,
  AdamW step; the same AdamW for both, fused by default: the for-loop one costs
  as much as the model's forward pass on a small CPU) and inference throughput
  (forward under ``torch.inference_mode``); the two models are timed alternately
  in the same process, ``--repeats`` rounds of ``--steps`` steps, and the medians
  are compared;
* model FLOPs utilization: each model's own matrix-product FLOPs per clip
  (``torch.utils.flop_counter``; ours takes exact shortcuts, the last block's CLS
  output alone and folded projections, so it counts fewer) times clips/s, over the FLOP/s of a
  large matmul measured on this machine at the same dtype;
* peak memory of one training step / one inference pass above the process's
  baseline, in a fresh process per (implementation, configuration): on the CPU the
  rise of the resident set's high-water mark (Linux ``/proc``) after a warm-up
  step, on CUDA ``max_memory_allocated`` above ``memory_allocated``; and the
  whole peak during that step (CPU: the resident high-water mark; CUDA:
  ``max_memory_allocated``, weights and optimizer state included), the figure
  that must fit the device.

``--dtype bf16`` runs under ``torch.autocast``; ``--reference-dtype`` lets the
reference run at another dtype (e.g. ours at bf16 against its fp32).
``--activation-checkpointing`` recomputes blocks in both models' backward passes.
``--compile`` compiles our model with ``torch.compile`` (MODEL.COMPILE);
``--profile`` prints torch.profiler's top operators of one step of each.
The result is a Markdown table on stdout, headed by the machine and the command.
"""

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from timesformer.models.attention import ATTENTION_TYPES
from timesformer.models.hugging_face import to_hf_state_dict
from timesformer.models.vit import VisionTransformer
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.peak_memory import (
    probe_result_line,
    run_probe,
    step_peak_bytes,
    wait_for_device,
)

IMPLEMENTATIONS = ("ours", "reference")
MODES = ("train", "infer")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
MIB = 2**20


@dataclass(frozen=True)
class Case:
    """One configuration to measure: an attention type at a clip length."""

    attention: str
    frames: int


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_arg_parser(__doc__, config=False)
    parser.add_argument("--embed-dim", type=int, default=384)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--patch", type=int, default=16)
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument(
        "--frames", type=int, nargs="+", default=[8], help="clip lengths, each a case"
    )
    parser.add_argument("--size", type=int, default=112, help="crop height and width")
    parser.add_argument(
        "--attention", nargs="+", default=list(ATTENTION_TYPES), choices=ATTENTION_TYPES
    )
    parser.add_argument("--dtype", choices=DTYPES, default="fp32", help="bf16: torch.autocast")
    parser.add_argument("--reference-dtype", choices=DTYPES, default=None, help="default: --dtype")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat")
    parser.add_argument(
        "--repeats", type=int, default=5, help="alternating timed rounds; medians are reported"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile our model (MODEL.COMPILE)"
    )
    parser.add_argument("--activation-checkpointing", action="store_true", help="for both models")
    parser.add_argument(
        "--optimizer",
        choices=("fused", "unfused"),
        default="fused",
        help="AdamW implementation, same for both",
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--profile", action="store_true", help="print torch.profiler's top operators of a step"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--json", metavar="FILE", help="also write the rows to FILE as JSON")
    parser.add_argument("--probe", nargs=2, metavar=("IMPL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.reference_dtype = args.reference_dtype or args.dtype
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available.")
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


# ---------------------------------------------------------------------------- #
# Models, inputs and steps
# ---------------------------------------------------------------------------- #


def build_models(args: argparse.Namespace, case: Case) -> dict[str, nn.Module]:
    """Our model and the reference, with the same random weights, on ``args.device``."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    torch.manual_seed(0)
    ours = VisionTransformer(
        img_size=args.size,
        patch_size=args.patch,
        num_classes=args.classes,
        embed_dim=args.embed_dim,
        depth=args.depth,
        num_heads=args.heads,
        drop_path_rate=0.0,
        num_frames=case.frames,
        attention_type=case.attention,
        activation_checkpointing=args.activation_checkpointing,
    )
    config = TimesformerConfig(
        image_size=args.size,
        patch_size=args.patch,
        num_frames=case.frames,
        hidden_size=args.embed_dim,
        num_hidden_layers=args.depth,
        num_attention_heads=args.heads,
        intermediate_size=4 * args.embed_dim,
        attention_type=case.attention,
        num_labels=args.classes,
        layer_norm_eps=1e-6,
        qkv_bias=True,
    )
    reference = TimesformerForVideoClassification(config)
    reference.load_state_dict(to_hf_state_dict(ours.state_dict()), strict=True)
    if args.activation_checkpointing:
        reference.gradient_checkpointing_enable()
    return {"ours": ours.to(args.device), "reference": reference.to(args.device)}


def make_batch(
    args: argparse.Namespace, case: Case, impl: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random clip batch in the implementation's own layout, and labels (B,).

    Ours takes (B, 3, T, H, W); the reference takes (B, T, 3, H, W). Both contiguous.
    """
    generator = torch.Generator().manual_seed(1)
    clip = torch.randn(args.batch, 3, case.frames, args.size, args.size, generator=generator)
    if impl == "reference":
        clip = clip.transpose(1, 2).contiguous()
    labels = torch.randint(args.classes, (args.batch,), generator=generator)
    return clip.to(args.device), labels.to(args.device)


def logits_of(model: nn.Module, impl: str, clip: torch.Tensor) -> torch.Tensor:
    """clip in the implementation's layout -> logits (B, classes).

    The reference's space-only model classifies each frame, (B*T, classes); the
    frames' logits are averaged (ours averages the frames' CLS features instead).
    """
    if impl == "ours":
        return model(clip)
    logits = model(pixel_values=clip).logits
    return logits.unflatten(0, (clip.shape[0], -1)).mean(dim=1)


def autocast_for(args: argparse.Namespace, impl: str) -> contextlib.AbstractContextManager:
    """bf16 autocast where the implementation's dtype is bf16, else nothing."""
    dtype = args.dtype if impl == "ours" else args.reference_dtype
    if dtype == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(args.device, dtype=DTYPES[dtype])


def make_step(
    args: argparse.Namespace, case: Case, impl: str, model: nn.Module, mode: str
) -> Callable[[], None]:
    """A function running one training step (or one inference pass) of ``model`` on its batch."""
    clip, labels = make_batch(args, case, impl)
    forward = torch.compile(model) if args.compile and impl == "ours" else model
    if mode == "infer":
        model.eval()

        def infer_step() -> None:
            with torch.inference_mode(), autocast_for(args, impl):
                logits_of(forward, impl, clip)

        return infer_step
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=args.optimizer == "fused")

    def train_step() -> None:
        with autocast_for(args, impl):
            loss = F.cross_entropy(logits_of(forward, impl, clip), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return train_step


# ---------------------------------------------------------------------------- #
# Throughput and FLOPs
# ---------------------------------------------------------------------------- #


def throughput(args: argparse.Namespace, steps: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Median clips/s of each implementation's step, timed alternately (the order flips each
    round)."""
    for step in steps.values():
        for _ in range(args.warmup):
            step()
    rates = {impl: [] for impl in steps}
    for round_index in range(args.repeats):
        order = list(steps) if round_index % 2 == 0 else list(reversed(steps))
        for impl in order:
            wait_for_device(args.device)
            start = time.perf_counter()
            for _ in range(args.steps):
                steps[impl]()
            wait_for_device(args.device)
            rates[impl].append(args.batch * args.steps / (time.perf_counter() - start))
    return {impl: statistics.median(values) for impl, values in rates.items()}


def profile_steps(
    args: argparse.Namespace, steps: dict[str, Callable[[], None]], row_limit: int = 15
) -> str:
    """torch.profiler's operators of one step of each implementation, by self time."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device == "cuda" else [])
    sort_by = "self_cuda_time_total" if args.device == "cuda" else "self_cpu_time_total"
    tables = []
    for impl, step in steps.items():
        step()
        with profile(activities=activities) as profiler:
            step()
            wait_for_device(args.device)
        tables.append(
            f"{impl}:\n{profiler.key_averages().table(sort_by=sort_by, row_limit=row_limit)}"
        )
    return "\n".join(tables)


def model_flops_per_clip(
    args: argparse.Namespace, case: Case, impl: str, model: nn.Module, mode: str
) -> float:
    """Matrix-product FLOPs of one clip (forward; forward + backward for training) of ``model``.

    Counted under SDPA's math backend: the counter does not see the fused CPU kernels.
    """
    clip, labels = make_batch(args, case, impl)
    counter = FlopCounterMode(display=False)
    with counter, sdpa_kernel(SDPBackend.MATH):
        if mode == "infer":
            with torch.no_grad():
                logits_of(model, impl, clip)
        else:
            F.cross_entropy(logits_of(model, impl, clip), labels).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / args.batch


def matmul_peak_flops(device: str, dtype: torch.dtype, repeats: int = 10) -> float:
    """FLOP/s of the best of ``repeats`` large square matmuls (n=2048 on CPU, 8192 on CUDA)."""
    size = 8192 if device == "cuda" else 2048
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        wait_for_device(device)
        start = time.perf_counter()
        torch.mm(a, b)
        wait_for_device(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


# ---------------------------------------------------------------------------- #
# Peak memory, one fresh process per (implementation, case, mode)
# ---------------------------------------------------------------------------- #


def probe_memory(args: argparse.Namespace, impl: str, mode: str) -> tuple[int, int]:
    """In this process: build the case's models, keep ``impl``, warm up, and measure one step's
    peak: (above the baseline, whole), bytes."""
    case = Case(args.attention[0], args.frames[0])
    model = build_models(args, case)[impl]
    step = make_step(args, case, impl, model, mode)
    step()  # optimizer state, lazily built kernels and buffers exist from here on
    return step_peak_bytes(args.device, step)


def peak_memory_in_fresh_process(
    argv: list[str], case: Case, impl: str, mode: str
) -> tuple[float, float]:
    """Run :func:`probe_memory` for one case in a new Python process; (above the baseline, whole),
    MiB."""
    case_argv = ["--attention", case.attention, "--frames", str(case.frames), "--probe", impl, mode]
    rise, whole = run_probe([sys.executable, os.path.abspath(__file__), *argv, *case_argv])
    return rise / MIB, whole / MIB


def _case_free_argv(argv: list[str]) -> list[str]:
    """The command line without its --attention / --frames lists (a probe sets one of each)."""
    kept, skipping = [], False
    for token in argv:
        if token.startswith("--"):
            skipping = token in ("--attention", "--frames")
        if not skipping:
            kept.append(token)
    return kept


# ---------------------------------------------------------------------------- #
# One case, the table, the machine
# ---------------------------------------------------------------------------- #


def measure_case(
    args: argparse.Namespace, case: Case, mode: str, peak_flops: dict[str, float]
) -> dict:
    """Throughput, MFU (and, unless --no-memory, peak memory) of both implementations; one table
    row."""
    models = build_models(args, case)
    flops = {
        impl: model_flops_per_clip(args, case, impl, model, mode) for impl, model in models.items()
    }
    steps = {impl: make_step(args, case, impl, model, mode) for impl, model in models.items()}
    if args.profile:
        print(f"{case.attention}, {case.frames} frames, {mode}:\n{profile_steps(args, steps)}")
    rates = throughput(args, steps)
    row = {"attention": case.attention, "frames": case.frames, "mode": mode, "clips_per_s": rates}
    row["mfu"] = {impl: flops[impl] * rates[impl] / peak_flops[impl] for impl in IMPLEMENTATIONS}
    row["speedup"] = rates["ours"] / rates["reference"]
    if not args.no_memory:
        argv = _case_free_argv(args.argv)
        peaks = {
            impl: peak_memory_in_fresh_process(argv, case, impl, mode) for impl in IMPLEMENTATIONS
        }
        row["peak_mib"] = {impl: rise for impl, (rise, _) in peaks.items()}
        row["total_peak_mib"] = {impl: total for impl, (_, total) in peaks.items()}
        row["memory_ratio"] = row["peak_mib"]["ours"] / row["peak_mib"]["reference"]
    return row


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table: clips/s, ratio, MFU, a step's peak MiB above the baseline and
    its whole peak MiB, of ours / reference."""
    lines = [
        "| attention | frames | mode | ours clips/s | ref clips/s | ours/ref speed "
        "| ours MFU | ref MFU | ours peak MiB | ref peak MiB | ours/ref memory "
        "| ours whole peak MiB | ref whole peak MiB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate, mfu = row["clips_per_s"], row["mfu"]
        peak, total = row.get("peak_mib"), row.get("total_peak_mib")
        memory = (
            f"{peak['ours']:.0f} | {peak['reference']:.0f} | {row['memory_ratio']:.2f}x "
            f"| {total['ours']:.0f} | {total['reference']:.0f}"
            if peak
            else "- | - | - | - | -"
        )
        lines.append(
            f"| {row['attention']} | {row['frames']} | {row['mode']} "
            f"| {rate['ours']:.2f} | {rate['reference']:.2f} "
            f"| {row['speedup']:.2f}x | {mfu['ours']:.1%} | {mfu['reference']:.1%} | {memory} |"
        )
    return "\n".join(lines)


def machine_description(device: str) -> str:
    """CPU model, cores, threads and load (or the GPU's name), with the torch version."""
    if device == "cuda":
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as stream:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), cpu
        )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"load average {load}, torch {torch.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.argv = argv
    if args.probe:
        impl, mode = args.probe
        print(probe_result_line(*probe_memory(args, impl, mode)))
        return 0
    print(f"Machine: {machine_description(args.device)}")
    print(f"Command: python tools/benchmark_model.py {' '.join(argv)}")
    peak_by_dtype = {
        name: matmul_peak_flops(args.device, DTYPES[name])
        for name in {args.dtype, args.reference_dtype}
    }
    peak_flops = {
        "ours": peak_by_dtype[args.dtype],
        "reference": peak_by_dtype[args.reference_dtype],
    }
    print(
        ", ".join(
            f"Matmul peak: {flops / 1e9:.1f} GFLOP/s ({name})"
            for name, flops in peak_by_dtype.items()
        )
        + "\n"
    )
    cases = [Case(attention, frames) for attention in args.attention for frames in args.frames]
    rows = [measure_case(args, case, mode, peak_flops) for case in cases for mode in args.modes]
    print(markdown_table(rows))
    if args.json:
        with open(args.json, "w") as stream:
            machine = machine_description(args.device)
            json.dump({"machine": machine, "argv": argv, "rows": rows}, stream, indent=1)
    print(f"\nLoad average after the run: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
