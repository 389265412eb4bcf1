"""How fast and how lean each model of :mod:`~timesformer.benchmarks.model_pair` runs: clips/s
timed alternately, model FLOPs utilization against a measured matmul peak, the peak memory of
one step, torch.profiler's top operators; and the report's table of them."""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from timesformer.benchmarks.model_pair import (
    IMPLEMENTATIONS,
    Case,
    build_models,
    build_random_batch,
    build_step,
    logits_of,
)
from timesformer.utils.peak_memory import step_peak_bytes, wait_for_device

PeakMemory = Callable[[Case, str, str], tuple[float, float]]
"""(case, implementation, mode) -> (MiB of one step above the baseline, whole peak MiB)."""


def throughput(args: argparse.Namespace, steps: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Median clips/s of each implementation's step, timed alternately (the order flips each
    round)."""
    for step in steps.values():
        for _ in range(args.warmup):
            step()
    rates: dict[str, list[float]] = {impl: [] for impl in steps}
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
    clip, labels = build_random_batch(args, case, impl)
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


def probe_memory(args: argparse.Namespace, impl: str, mode: str) -> tuple[int, int]:
    """In this process: build the models of the first case of ``args``, keep ``impl``, warm up,
    and measure one step's peak: (above the baseline, whole), bytes. Run it in a fresh process
    per (implementation, case, mode), so that no earlier case's memory counts."""
    case = Case(args.attention[0], args.frames[0])
    model = build_models(args, case)[impl]
    step = build_step(args, case, impl, model, mode)
    step()  # optimizer state, lazily built kernels and buffers exist from here on
    return step_peak_bytes(args.device, step)


def measure_case(
    args: argparse.Namespace,
    case: Case,
    mode: str,
    peak_flops: dict[str, float],
    peak_memory: PeakMemory | None = None,
) -> dict:
    """Throughput, MFU (and, with ``peak_memory``, peak memory) of both implementations; one
    table row."""
    models = build_models(args, case)
    flops = {
        impl: model_flops_per_clip(args, case, impl, model, mode) for impl, model in models.items()
    }
    steps = {impl: build_step(args, case, impl, model, mode) for impl, model in models.items()}
    if args.profile:
        print(f"{case.attention}, {case.frames} frames, {mode}:\n{profile_steps(args, steps)}")
    rates = throughput(args, steps)
    row = {"attention": case.attention, "frames": case.frames, "mode": mode, "clips_per_s": rates}
    row["mfu"] = {impl: flops[impl] * rates[impl] / peak_flops[impl] for impl in IMPLEMENTATIONS}
    row["speedup"] = rates["ours"] / rates["reference"]
    if peak_memory is not None:
        peaks = {impl: peak_memory(case, impl, mode) for impl in IMPLEMENTATIONS}
        peak_mib = {impl: rise for impl, (rise, _) in peaks.items()}
        row["peak_mib"] = peak_mib
        row["total_peak_mib"] = {impl: total for impl, (_, total) in peaks.items()}
        row["memory_ratio"] = peak_mib["ours"] / peak_mib["reference"]
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
            if peak and total
            else "- | - | - | - | -"
        )
        lines.append(
            f"| {row['attention']} | {row['frames']} | {row['mode']} "
            f"| {rate['ours']:.2f} | {rate['reference']:.2f} "
            f"| {row['speedup']:.2f}x | {mfu['ours']:.1%} | {mfu['reference']:.1%} | {memory} |"
        )
    return "\n".join(lines)
